/**
 * The browser dev console, served at GET /console: one self-contained HTML page with
 * inline CSS and JS, no build step. Its script is the client library
 * (`runcastClientLibrary`, the same code the CLI runs) and the console app
 * (`consoleApp`), both inlined with Function.prototype.toString: neither imports
 * anything at runtime.
 */
import { runcastClientLibrary } from '../client/client';
import { consoleApp } from './app';

const STYLE = `
:root {
  color-scheme: dark;
  --bg: #0f1218; --panel: #161b24; --panel-2: #1c2330; --line: #273042; --text: #d8dee9; --muted: #8391a7;
  --accent: #5aa9ff; --ok: #3fb950; --bad: #f85149; --warn: #d29922; --run: #58a6ff; --skip: #6e7681; --pause: #e3b341;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; background: var(--bg); color: var(--text); font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; align-items: center; gap: 12px; padding: 8px 16px; border-bottom: 1px solid var(--line); background: var(--panel); height: 44px; }
header h1 { font-size: 15px; margin: 0; font-weight: 600; letter-spacing: .02em; }
header h1 span { color: var(--accent); }
.pill { padding: 2px 8px; border-radius: 999px; border: 1px solid var(--line); font-size: 12px; color: var(--muted); }
#conn-status[data-status="ready"] { color: var(--ok); border-color: #23472c; }
#conn-status[data-status="connecting"], #conn-status[data-status="reconnecting"] { color: var(--warn); border-color: #4d3c14; }
#conn-status[data-status="closed"] { color: var(--bad); border-color: #5a2524; }
#identity { color: var(--muted); font-size: 12px; margin-left: auto; }
main { display: grid; grid-template-columns: 320px 1fr; height: calc(100% - 44px); }
aside { border-right: 1px solid var(--line); padding: 12px; overflow: auto; background: var(--panel); }
aside section { margin-bottom: 16px; }
aside h2, .panel h2 { font-size: 11px; text-transform: uppercase; letter-spacing: .08em; color: var(--muted); margin: 0 0 6px; font-weight: 600; }
label { display: block; color: var(--muted); font-size: 12px; margin: 6px 0 3px; }
label.inline { display: inline-flex; align-items: center; gap: 4px; margin-right: 10px; color: var(--text); }
input[type=text], input[type=password], textarea { width: 100%; background: var(--bg); color: var(--text); border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; font: 12px var(--mono); }
textarea { resize: vertical; min-height: 64px; }
#definition { min-height: 140px; }
input:disabled, textarea:disabled { opacity: .45; }
.row { display: flex; gap: 6px; }
.row > input { flex: 1; }
button { background: var(--panel-2); color: var(--text); border: 1px solid var(--line); border-radius: 6px; padding: 5px 12px; font: inherit; cursor: pointer; }
button:hover:not(:disabled) { border-color: var(--accent); }
button:disabled { opacity: .4; cursor: default; }
button.primary { background: #1f4b82; border-color: #2c64a8; }
button.danger { border-color: #6b2a29; color: #ffb4ae; }
.error-box { background: #2a1416; border: 1px solid #5a2524; color: #ffb4ae; border-radius: 6px; padding: 8px; margin-top: 8px; white-space: pre-wrap; word-break: break-word; }
.problems { margin: 6px 0 0; padding-left: 18px; }
.problems code { color: #ffd8a8; }
.muted { color: var(--muted); }
.content { height: 100%; overflow: hidden; min-width: 0; }
#run { display: grid; grid-template-rows: auto minmax(0, 1fr); height: 100%; overflow: hidden; }
#run[hidden] { display: none; }
.empty { padding: 40px; color: var(--muted); }
.empty[hidden] { display: none; }
.run-head { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; padding: 10px 16px; border-bottom: 1px solid var(--line); }
#run-title { font-weight: 600; }
#current-run-id { font: 12px var(--mono); color: var(--muted); }
#run-status { font-weight: 600; text-transform: uppercase; font-size: 11px; letter-spacing: .06em; }
#run-status[data-status="running"] { color: var(--run); border-color: #1d3b5e; }
#run-status[data-status="paused"] { color: var(--pause); border-color: #4d3c14; }
#run-status[data-status="succeeded"] { color: var(--ok); border-color: #23472c; }
#run-status[data-status="failed"], #run-status[data-status="cancelled"] { color: var(--bad); border-color: #5a2524; }
#run-duration { font: 12px var(--mono); color: var(--muted); }
.controls { margin-left: auto; display: flex; gap: 6px; align-items: center; }
#failure, #run-error { margin: 8px 16px 0; }
#failure[hidden], #run-error[hidden], #form-error[hidden] { display: none; }
.body { display: grid; grid-template-columns: 1fr 360px; min-height: 0; }
.panel { padding: 12px 16px; overflow: auto; min-height: 0; }
.side { border-left: 1px solid var(--line); display: grid; grid-template-rows: auto minmax(0, 1fr); min-height: 0; }
#nodes { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 6px; }
.node { background: var(--panel); border: 1px solid var(--line); border-left: 3px solid var(--skip); border-radius: 6px; padding: 6px 10px; }
.node-head { display: flex; align-items: center; gap: 8px; min-height: 22px; }
.dot { width: 9px; height: 9px; border-radius: 50%; background: var(--skip); flex: none; }
.node-id { font: 600 13px var(--mono); }
.node-type { font: 11px var(--mono); color: var(--muted); background: var(--panel-2); padding: 1px 6px; border-radius: 4px; }
.node-name { color: var(--muted); }
.node-meta { color: var(--muted); font-size: 12px; }
.node-duration { margin-left: auto; font: 12px var(--mono); color: var(--muted); }
.node-status { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; width: 74px; text-align: right; color: var(--muted); }
.node[data-status="running"] { border-left-color: var(--run); }
.node[data-status="running"] .dot { background: var(--run); animation: pulse 1s infinite; }
.node[data-status="running"] .node-status { color: var(--run); }
.node[data-status="succeeded"] { border-left-color: var(--ok); }
.node[data-status="succeeded"] .dot { background: var(--ok); }
.node[data-status="succeeded"] .node-status { color: var(--ok); }
.node[data-status="failed"] { border-left-color: var(--bad); background: #221416; }
.node[data-status="failed"] .dot { background: var(--bad); }
.node[data-status="failed"] .node-status { color: var(--bad); }
.node[data-status="paused"] { border-left-color: var(--pause); box-shadow: 0 0 0 1px #4d3c14 inset; }
.node[data-status="paused"] .dot { background: var(--pause); }
.node[data-status="paused"] .node-status { color: var(--pause); }
.node[data-status="skipped"] { opacity: .55; }
.node[data-status="skipped"] .node-id { text-decoration: line-through; text-decoration-color: var(--skip); }
.node.culprit { box-shadow: 0 0 0 1px var(--bad); }
.node-error { color: #ffb4ae; font: 12px var(--mono); margin: 4px 0 0 17px; white-space: pre-wrap; word-break: break-word; }
.node-error[hidden] { display: none; }
.node-details > summary { cursor: pointer; color: var(--muted); font-size: 12px; margin: 4px 0 0 17px; }
.node-body { margin: 6px 0 2px 17px; }
.execution + .execution { border-top: 1px dashed var(--line); margin-top: 8px; padding-top: 6px; }
.execution-title { font-size: 12px; color: var(--accent); margin-bottom: 4px; }
.section { margin: 4px 0 8px; }
.section-title { font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin-bottom: 2px; }
.json { font: 12px/1.5 var(--mono); background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 6px 8px; overflow: auto; max-height: 320px; }
.j-node > summary { cursor: pointer; color: var(--muted); list-style: none; display: inline; }
.j-node > summary::before { content: "▸ "; }
.j-node[open] > summary::before { content: "▾ "; }
.j-node { display: inline; }
.j-children { padding-left: 16px; border-left: 1px solid var(--line); margin-left: 3px; }
.j-row { white-space: pre-wrap; word-break: break-all; }
.j-key { color: #9cdcfe; }
.j-string { color: #ce9178; }
.j-number { color: #b5cea8; }
.j-boolean, .j-null, .j-undefined { color: #569cd6; }
.j-empty { color: var(--muted); }
.j-truncated { display: inline-block; border: 1px dashed var(--warn); border-radius: 4px; padding: 4px 6px; margin: 2px 0; }
.j-trunc-head { color: var(--warn); font-size: 11px; }
.j-preview { margin: 4px 0; max-height: 80px; overflow: auto; white-space: pre-wrap; word-break: break-all; color: var(--muted); }
.logs { list-style: none; margin: 0; padding: 0; font: 12px var(--mono); }
.log-level { display: inline-block; width: 44px; color: var(--muted); }
.log-warn .log-level { color: var(--warn); }
.log-error .log-level { color: var(--bad); }
.side .panel + .panel { border-top: 1px solid var(--line); }
#timeline { list-style: none; margin: 0; padding: 0; font: 12px var(--mono); }
.tl { display: grid; grid-template-columns: 38px 92px 112px 1fr; gap: 4px; padding: 1px 0; border-bottom: 1px solid #1a2029; }
.tl-seq { color: var(--muted); }
.tl-time { color: var(--muted); }
.tl-node { color: var(--text); overflow: hidden; text-overflow: ellipsis; }
.tl-detail { grid-column: 3 / 5; color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tl-detail:empty { display: none; }
.tl-node-failed .tl-kind, .tl-run-failed .tl-kind, .tl-run-cancelled .tl-kind { color: var(--bad); }
.tl-node-completed .tl-kind, .tl-run-completed .tl-kind { color: var(--ok); }
.tl-node-paused .tl-kind { color: var(--pause); }
.tl-node-log .tl-kind { color: var(--muted); }
.tl-run-started .tl-kind, .tl-node-started .tl-kind { color: var(--run); }
.response-status { margin-bottom: 6px; }
.http-status { font: 600 16px var(--mono); }
#response[data-status^="2"] .http-status { color: var(--ok); }
#response[data-status^="4"] .http-status, #response[data-status^="5"] .http-status { color: var(--bad); }
#response .json + .json { margin-top: 6px; }
@keyframes pulse { 50% { opacity: .35; } }
`;

const BODY = `
<header>
  <h1><span>runcast</span> console</h1>
  <span id="conn-status" class="pill" data-status="idle">not connected</span>
  <span id="viewers" class="pill" data-viewers="">– viewers</span>
  <span id="identity"></span>
</header>
<main>
  <aside>
    <section>
      <h2>Token</h2>
      <div class="row">
        <input id="token" type="password" placeholder="paste a JWT (or open #token=…)" autocomplete="off" spellcheck="false">
        <button id="connect" type="button">Connect</button>
      </div>
    </section>
    <section>
      <h2>Watch a run</h2>
      <div class="row">
        <input id="run-id" type="text" placeholder="run id" spellcheck="false">
        <button id="watch" type="button">Watch</button>
      </div>
    </section>
    <section>
      <h2>Start a run</h2>
      <label class="inline"><input id="mode-deployed" type="radio" name="mode" value="deployed" checked> deployed workflow</label>
      <label class="inline"><input id="mode-definition" type="radio" name="mode" value="definition"> definition (JSON)</label>
      <label for="workflow-id">workflow id</label>
      <input id="workflow-id" type="text" placeholder="create-user" spellcheck="false">
      <label for="definition">definition</label>
      <textarea id="definition" spellcheck="false" placeholder='{"id": "…", "nodes": […], "edges": […]}'></textarea>
      <label for="input">input (the API request)</label>
      <textarea id="input" spellcheck="false">{"method": "GET", "path": "/", "body": null}</textarea>
      <label for="breakpoints">breakpoints (node ids)</label>
      <input id="breakpoints" type="text" placeholder="clean, insert" spellcheck="false">
      <div class="row" style="margin-top:8px"><button id="start" type="button" class="primary">Start run</button></div>
      <div id="form-error" class="error-box" hidden></div>
    </section>
  </aside>
  <div class="content">
    <div id="run" hidden>
      <div>
        <div class="run-head">
          <span id="run-title"></span>
          <span id="current-run-id"></span>
          <span id="run-status" class="pill" data-status="idle">idle</span>
          <span id="run-duration"></span>
          <span class="controls">
            <button id="continue" type="button" disabled>Continue</button>
            <button id="step" type="button" disabled>Step</button>
            <button id="cancel" type="button" class="danger" disabled>Cancel</button>
          </span>
        </div>
        <div id="failure" class="error-box" hidden></div>
        <div id="run-error" class="error-box" hidden></div>
      </div>
      <div class="body">
        <div class="panel">
          <h2>Nodes, in execution order</h2>
          <ol id="nodes"></ol>
        </div>
        <div class="side">
          <div class="panel">
            <h2>Response</h2>
            <div id="response"><p class="muted">no response yet</p></div>
          </div>
          <div class="panel" id="timeline-panel">
            <h2>Timeline · <span id="event-count">0</span> events</h2>
            <ol id="timeline"></ol>
          </div>
        </div>
      </div>
    </div>
    <div class="empty" id="empty-state">Connect with a token, then watch a run by id or start one.</div>
  </div>
</main>
`;

let cached: string | undefined;

/** The console page (built once, then cached). */
export function consoleHtml(): string {
  if (cached !== undefined) return cached;
  const script = `'use strict';\n(${consoleApp.toString()})((${runcastClientLibrary.toString()})());`;
  cached = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>runcast console</title>
<style>${STYLE}</style>
</head>
<body>
${BODY}
<script>
${script.replace(/<\/(script)/gi, '<\\/$1')}
</script>
</body>
</html>
`;
  return cached;
}
