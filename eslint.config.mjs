// ESLint for the report page's scripts and their unit tests; `make lint` runs it (`npm run lint` too).
import js from "@eslint/js";
import globals from "globals";

// What the page's own rules forbid (templates/js/core.js): a value from the table is only ever set as text, and
// nothing is fetched or run from a string.
const AS_TEXT = "a value from the table is set as text only (textContent, ep.el), never as HTML";
const OFFLINE = "the report makes no network request: its data is in the page";

export default [
  js.configs.recommended,
  {
    // The page's scripts: plain scripts inlined in order into one page that runs from file:// in any browser
    // (no modules, no bundler), each extending window.embproj; BokehJS is the one other global they use.
    files: ["templates/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2017,
      sourceType: "script",
      globals: { ...globals.browser, Bokeh: "readonly" },
    },
    rules: {
      strict: ["error", "function"],
      "no-var": "error",
      "prefer-const": "error",
      eqeqeq: "error",
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-restricted-properties": [
        "error",
        { property: "innerHTML", message: AS_TEXT },
        { property: "outerHTML", message: AS_TEXT },
        { property: "insertAdjacentHTML", message: AS_TEXT },
        { object: "document", property: "write", message: AS_TEXT },
        { object: "document", property: "writeln", message: AS_TEXT },
        { object: "window", property: "fetch", message: OFFLINE },
        { object: "navigator", property: "sendBeacon", message: OFFLINE },
      ],
      "no-restricted-globals": [
        "error",
        ...["fetch", "XMLHttpRequest", "WebSocket", "EventSource", "importScripts"].map((name) => ({ name, message: OFFLINE })),
      ],
    },
  },
  {
    // The page's projector runs as a Web Worker (js/gear.js starts it from a Blob URL of its text): a worker's
    // globals, and UMAP, which the vendored umap-js before it defines.
    files: ["templates/js/worker/**/*.js"],
    languageOptions: { globals: { ...globals.worker, UMAP: "readonly" } },
  },
  {
    files: ["tests/js/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "commonjs", globals: globals.node },
    rules: { "no-var": "error", "prefer-const": "error", eqeqeq: "error" },
  },
  {
    files: ["eslint.config.mjs"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module" },
  },
];
