"use strict";
// What Python made for these tests (tests/test_page_js.py writes it and names the file in EMBPROJ_JS_CASES):
// neighbour tables from the encoder, and the CSV guard's cases with Python's answers. Run on their own
// (`npm test`), the tests that need it are skipped with this reason.
const fs = require("node:fs");

const file = process.env.EMBPROJ_JS_CASES;
const python = file ? JSON.parse(fs.readFileSync(file, "utf8")) : null;
const WITHOUT = "needs the cases Python makes: run through pytest tests/test_page_js.py";

module.exports = { python, skip: python ? false : WITHOUT };
