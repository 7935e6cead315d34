// Exercise 2.4: makes the browser hold four connections to the server at once, then reports.
//
// A browser sends a request over a connection that is free, and opens a new one only while all of
// its connections to the server are busy. Four small requests are answered so fast that one or two
// connections are free again before the next request goes out, so they often share 2 or 3
// connections. Here each request asks for a large file (files/big.bin, 32 MiB, made by make): its
// body cannot fit in the buffers between the server and this page, so a request stays in flight
// until the page reads its body, and the page reads no body until all four response heads have
// arrived. Four requests in flight at once need four connections. The page then holds the answers
// unread for 2 s (?hold=MS changes it), so that the live status page sees four connections sending,
// and reads the bodies.
//
// Every time on this page is measured by the browser (performance.now(), milliseconds since the
// run began), not by the server: the server's times are in its -v trace.
"use strict";

const BIG = "files/big.bin";
const SMALL = "files/notes.txt";
const params = new URLSearchParams(location.search);
const HOLD = params.has("hold") ? Math.max(0, Number(params.get("hold")) || 0) : 2000; // ms the answers wait unread
const rows = document.getElementById("rows");
const state = document.getElementById("state");

// Adds one table cell with the given text to a row.
function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    return td;
}

// Fills a row's cell (by its column's class) with a browser time in ms.
function put(row, name, value) {
    row.querySelector("." + name).textContent = typeof value === "number" && name !== "status" && name !== "bytes" ? value.toFixed(1) : String(value);
}

// Adds a row for request i: number, URL, and empty cells for the times, the bytes and the status, each
// labelled with its column's title for a phone, where the rows are shown as blocks.
function addRow(i, url) {
    const row = rows.insertRow();
    cell(row, `request ${i}`);
    cell(row, url, "url").dataset.label = "URL";
    const titles = document.querySelectorAll("table.runs thead th");
    ["start", "head", "end", "bytes", "status"].forEach((name, k) => {
        cell(row, "", name).dataset.label = titles[k + 2].textContent;
    });
    return row;
}

// Reads a response body to its end, counting its bytes, and returns the count.
async function drain(response) {
    if (!response.body) return (await response.arrayBuffer()).byteLength;
    const reader = response.body.getReader();
    let bytes = 0;
    for (;;) {
        const { done, value } = await reader.read();
        if (done) return bytes;
        bytes += value.byteLength;
    }
}

// Says how a run ended, in the line above the table.
function finish(ok, n, text) {
    state.textContent = text;
    state.className = ok === n ? "done ok" : "done failed";
}

// Resolves after ms milliseconds.
function pause(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

// The exercise: four requests for the big file in flight together, bodies read only once all four
// heads are in, and HOLD ms after that. Should the browser hold a request back (other tabs of this page
// may hold its connections to the server), the server's time limit (-t) ends the stalled answers and
// the rows say "error".
async function four() {
    const n = 4;
    rows.textContent = "";
    state.className = "";
    state.textContent = `sending ${n} requests; waiting until all ${n} response heads have arrived ` +
        `(if this lasts, another tab of this page may be holding the browser's connections to the server)`;
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const runs = Array.from({ length: n }, (_, k) => {
        const url = `${BIG}?connection=${k + 1}`;
        const row = addRow(k + 1, url);
        const run = { row, response: undefined };
        put(row, "start", now());
        run.head = fetch(url, { cache: "no-store" }).then(
            (response) => {
                put(row, "head", now());
                put(row, "status", response.status);
                run.response = response;
            },
            () => {
                put(row, "status", "error");
                run.response = null;
            });
        return run;
    });
    await Promise.all(runs.map((r) => r.head));
    const heads = runs.filter((r) => r.response).length;
    const note = heads === n
        ? `all ${n} response heads arrived by ${now().toFixed(1)} ms (browser time): ${n} requests in flight at ` +
          `once, so the browser held ${n} connections`
        : `${n - heads} of ${n} requests failed before their head arrived`;
    if (HOLD > 0) {
        state.textContent = `${note}; holding the answers unread for ${HOLD / 1000} s`;
        await pause(HOLD);
    }
    state.textContent = `${note}; reading the bodies`;
    const results = await Promise.all(runs.map(async (run) => {
        await run.head;
        const response = run.response;
        if (!response) return false;
        let bytes;
        try {
            bytes = await drain(response);
        } catch (error) {
            put(run.row, "status", "error");
            return false;
        }
        put(run.row, "end", now());
        put(run.row, "bytes", bytes);
        const length = Number(response.headers.get("Content-Length"));
        return response.status === 200 && (!length || bytes === length);
    }));
    const ok = results.filter(Boolean).length;
    if (runs.some((r) => r.response && r.response.status === 404))
        finish(ok, n, `${BIG} is missing (404): build with make, which makes it, and reload`);
    else
        finish(ok, n, `done: ${ok} of ${n} answered 200 with the whole body; ${note}`);
}

// For comparison: n small requests at once, each read as soon as it comes. The browser reuses a
// connection as soon as it is free, so they share fewer connections than requests.
async function small(n) {
    rows.textContent = "";
    state.className = "";
    state.textContent = `sending ${n} small requests`;
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const one = async (i) => {
        const url = `${SMALL}?request=${i}`;
        const row = addRow(i, url);
        put(row, "start", now());
        try {
            const response = await fetch(url, { cache: "no-store" });
            put(row, "head", now());
            put(row, "bytes", await drain(response));
            put(row, "end", now());
            put(row, "status", response.status);
            return response.status;
        } catch (error) {
            put(row, "status", "error");
            return "error";
        }
    };
    const statuses = await Promise.all(Array.from({ length: n }, (_, i) => one(i + 1)));
    const ok = statuses.filter((s) => s === 200).length;
    finish(ok, n, `done: ${ok} of ${n} answered 200`);
}

document.getElementById("run4").addEventListener("click", () => four());
document.getElementById("run16").addEventListener("click", () => small(16));
const asked = Number(params.get("small"));
if (asked > 0) small(Math.min(asked, 100));
else four();
