// The loop, live: polls the server's status path (nginx stub_status text, plus the ?full lines)
// about every 250 ms and draws the connections in each state over the last minute, as plain SVG.
"use strict";

const PERIOD = 250; // ms between polls
const SPAN = 60000; // ms of history shown
const SVG = "http://www.w3.org/2000/svg";
const params = new URLSearchParams(location.search);
const path = params.get("path") || "/status";
const chart = document.getElementById("chart");
const now = document.getElementById("now");
const raw = document.getElementById("raw");
const problem = document.getElementById("problem");
const problemText = document.getElementById("problem-text");
const samples = []; // { t, reading, writing, waiting, closing, parked, rounds, requests }

document.getElementById("path").textContent = path;

// Reads stub_status text (and the ?full lines when present) into numbers; null if it is not that text.
function parse(text) {
    const active = /^Active connections: (\d+)/m.exec(text);
    const totals = /^server accepts handled requests\s*\n\s*(\d+) (\d+) (\d+)/m.exec(text);
    const states = /^Reading: (\d+) Writing: (\d+) Waiting: (\d+)/m.exec(text);
    if (!active || !totals || !states) return null;
    const full = (name) => {
        const m = new RegExp("^" + name + ": (\\d+)", "m").exec(text);
        return m ? Number(m[1]) : null;
    };
    return {
        active: Number(active[1]),
        accepts: Number(totals[1]),
        requests: Number(totals[3]),
        reading: Number(states[1]),
        writing: Number(states[2]),
        waiting: Number(states[3]),
        rounds: full("select\\(\\) rounds"),
        parked: full("parked"),
        closing: full("closing"),
        listings: full("listings being built"),
    };
}

// Shows a problem above the chart, or hides it (text null).
function say(text) {
    problem.hidden = text === null;
    problemText.textContent = text || "";
}

// Makes an SVG element with attributes.
function el(name, attrs, text) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
}

// Draws the last minute: stacked areas for Reading, Writing and Waiting, lines for closing and parked.
function draw() {
    const width = Math.max(280, Math.floor(chart.clientWidth));
    const height = width < 600 ? 200 : 260;
    const left = 34, right = 10, top = 10, bottom = 26;
    const plotW = width - left - right, plotH = height - top - bottom;
    const end = performance.now(), start = end - SPAN;
    const shown = samples.filter((s) => s.t >= start - PERIOD * 2);
    const most = Math.max(4, ...shown.map((s) => s.reading + s.writing + s.waiting), ...shown.map((s) => s.parked || 0));
    const x = (t) => left + plotW * Math.max(0, t - start) / SPAN;
    const y = (n) => top + plotH - plotH * n / most;
    const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
        "aria-label": "connections in each state over the last minute" });
    svg.appendChild(el("rect", { x: left, y: top, width: plotW, height: plotH, fill: "#fff", stroke: "#bbb" }));
    // Grid: a line per connection count (or per few), and a tick every 10 s.
    const step = Math.max(1, Math.ceil(most / 8));
    for (let n = 0; n <= most; n += step) {
        svg.appendChild(el("line", { x1: left, x2: left + plotW, y1: y(n), y2: y(n), stroke: "#e4e4e4" }));
        svg.appendChild(el("text", { x: left - 6, y: y(n) + 4, "text-anchor": "end", "font-size": 12 }, String(n)));
    }
    for (let s = 0; s <= 60; s += 10) {
        const tx = left + plotW * (60 - s) / 60;
        svg.appendChild(el("line", { x1: tx, x2: tx, y1: top + plotH, y2: top + plotH + 4, stroke: "#555" }));
        svg.appendChild(el("text", { x: tx, y: height - 8, "text-anchor": s === 0 ? "end" : "middle",
            "font-size": 12 }, s === 0 ? "now" : `-${s} s`));
    }
    // Stacked areas, as steps: each sample holds until the next.
    const layers = [["waiting", "#C9C9C9"], ["reading", "#E69F00"], ["writing", "#0072B2"]];
    let below = shown.map(() => 0);
    for (const [key, colour] of layers) {
        const above = shown.map((s, i) => below[i] + s[key]);
        if (shown.length > 0) {
            const pts = [];
            shown.forEach((s, i) => {
                const x1 = x(s.t), x2 = i + 1 < shown.length ? x(shown[i + 1].t) : x(end);
                pts.push(`${x1},${y(above[i])}`, `${x2},${y(above[i])}`);
            });
            for (let i = shown.length - 1; i >= 0; i--) {
                const x1 = x(shown[i].t), x2 = i + 1 < shown.length ? x(shown[i + 1].t) : x(end);
                pts.push(`${x2},${y(below[i])}`, `${x1},${y(below[i])}`);
            }
            svg.appendChild(el("polygon", { points: pts.join(" "), fill: colour, class: key }));
        }
        below = above;
    }
    // Lines for the ?full counts.
    for (const [key, colour, dash] of [["closing", "#CC79A7", "6 3"], ["parked", "#000", "2 3"]]) {
        const pts = [];
        shown.forEach((s, i) => {
            if (s[key] === null) return;
            const x2 = i + 1 < shown.length ? x(shown[i + 1].t) : x(end);
            pts.push(`${x(s.t)},${y(s[key])}`, `${x2},${y(s[key])}`);
        });
        if (pts.length)
            svg.appendChild(el("polyline", { points: pts.join(" "), fill: "none", stroke: colour, "stroke-width": 2,
                "stroke-dasharray": dash, class: key }));
    }
    chart.replaceChildren(svg);
}

// Writes the latest counts in words under the chart.
function describe(s, previous) {
    const parts = [`${s.active} open: ${s.reading} Reading, ${s.writing} Writing, ${s.waiting} Waiting`];
    if (s.closing !== null) parts.push(`${s.closing} closing`);
    if (s.parked !== null) parts.push(`${s.parked} parked`);
    let line = parts.join("; ") + `. Since it started the server accepted ${s.accepts} connections and answered ` +
        `${s.requests} requests`;
    if (s.rounds !== null && previous && previous.rounds !== null && s.t > previous.t)
        line += `; select() rounds since the last poll: ${Math.max(0, s.rounds - previous.rounds)}`;
    now.textContent = line + ".";
}

async function poll() {
    let next = PERIOD;
    try {
        const response = await fetch(path + "?full", { cache: "no-store" });
        const text = await response.text();
        if (response.status === 404) {
            say(`The server answered 404 for ${path}: it has no status page there. Stop it (Ctrl+C) and ` +
                `start it again with a status path: ./server -v -S ${path} ` +
                `(or open status.html?path=/yours if you chose another path).`);
            next = 1000;
        } else if (response.status === 401) {
            say("The status page is behind the server's password (-a): reload and log in.");
            next = 1000;
        } else {
            const s = parse(text);
            if (s === null) {
                say(`${path} answered ${response.status}, but not with stub_status text: is it a file? ` +
                    `Start the server with -S and a path no file has.`);
                next = 1000;
            } else {
                say(null);
                s.t = performance.now();
                const previous = samples[samples.length - 1];
                samples.push(s);
                while (samples.length && samples[0].t < s.t - SPAN - 2 * PERIOD) samples.shift();
                raw.textContent = text;
                describe(s, previous);
            }
        }
    } catch (error) {
        say("The server does not answer: is it still running? Start it with ./server -v -S " + path +
            "; this page tries again every second.");
        next = 1000;
    }
    draw();
    setTimeout(poll, next);
}

addEventListener("resize", draw);
poll();
