// Sends n requests at once and fills the table with each one's start, end and status.
"use strict";

const rows = document.getElementById("rows");
const state = document.getElementById("state");

// Adds one table cell with the given text to a row.
function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    return td;
}

// Runs n fetches in parallel; the page says "done" when all have answered.
async function run(n) {
    rows.textContent = "";
    state.textContent = `running ${n} requests`;
    const t0 = performance.now();
    const one = async (i) => {
        const url = `files/notes.txt?request=${i}`;
        const row = rows.insertRow();
        cell(row, i);
        cell(row, url);
        cell(row, (performance.now() - t0).toFixed(1));
        let status;
        try {
            const response = await fetch(url, { cache: "no-store" });
            await response.text();
            status = response.status;
        } catch (error) {
            status = "error";
        }
        const end = performance.now() - t0;
        cell(row, end.toFixed(1));
        cell(row, (end - Number(row.cells[2].textContent)).toFixed(1));
        cell(row, status, "status");
        return status;
    };
    const statuses = await Promise.all(Array.from({ length: n }, (_, i) => one(i + 1)));
    const ok = statuses.filter((s) => s === 200).length;
    state.textContent = `done: ${ok} of ${n} answered 200`;
    state.className = ok === n ? "done ok" : "done failed";
}

document.getElementById("run4").addEventListener("click", () => run(4));
document.getElementById("run16").addEventListener("click", () => run(16));
run(Number(new URLSearchParams(location.search).get("n")) || 4);
