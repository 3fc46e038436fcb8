/** The admin UI's one stylesheet and one small script, served under content-hashed names. */
import { createHash } from 'node:crypto'

/**
 * Kept as strings in a module rather than files beside it: `tsc` copies no other files into
 * dist/, and a build step for two small files is more machinery than they are worth.
 */
const CSS = `
:root {
  --bg: #f6f7f9; --panel: #fff; --text: #1d2330; --muted: #5b6475; --line: #dde1e8;
  --accent: #2357c6; --accent-text: #fff; --danger: #b42318; --ok: #1b7f4c; --warn: #9a6700;
  --code: #f0f2f5; --radius: 6px; --focus: 0 0 0 3px rgba(35, 87, 198, .35);
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14171c; --panel: #1c2027; --text: #e4e7ec; --muted: #9aa3b2; --line: #2e3440;
    --accent: #6d9bff; --accent-text: #0d1117; --danger: #ff7b72; --ok: #56d364; --warn: #e3b341;
    --code: #232831;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
:focus-visible { outline: none; box-shadow: var(--focus); border-radius: 3px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--panel); padding: .5rem 1rem; z-index: 2; }
header.top {
  background: var(--panel); border-bottom: 1px solid var(--line);
  display: flex; flex-wrap: wrap; align-items: center; gap: .25rem 1.5rem; padding: .6rem 1.25rem;
}
.brand { font-weight: 650; color: var(--text); letter-spacing: .01em; }
nav.main ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem; margin: 0; padding: 0; }
nav.main a { display: block; padding: .3rem .7rem; border-radius: var(--radius); color: var(--muted); }
nav.main a[aria-current="page"] { background: var(--bg); color: var(--text); font-weight: 600; }
header.top form { margin-left: auto; }
main { max-width: 72rem; margin: 0 auto; padding: 1.25rem; }
h1 { font-size: 1.5rem; margin: .25rem 0; font-weight: 650; overflow-wrap: anywhere; }
.title { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between; margin: 0 0 1rem; }
main.narrow { max-width: 28rem; margin-top: 10vh; }
h3 { font-size: 1rem; margin: 1.25rem 0 .5rem; font-weight: 600; }
h2 { font-size: 1.1rem; margin: 1.75rem 0 .6rem; font-weight: 650; }
.crumbs { color: var(--muted); font-size: .9rem; margin: 0; }
.crumbs a { color: var(--muted); }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); padding: 1rem 1.25rem; }
.panel + .panel { margin-top: 1rem; }
.panel > h2:first-child, .panel > .notice:first-child { margin-top: 0; }
.bar { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: 0 0 1rem; }
.bar .grow { flex: 0 1 30rem; margin: 0; font-weight: 400; }
.table-wrap { overflow-x: auto; background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .55rem .8rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
tr:last-child td { border-bottom: 0; }
td.empty { color: var(--muted); text-align: center; padding: 1.5rem; }
dl.fields { display: grid; grid-template-columns: minmax(8rem, max-content) 1fr; gap: .4rem 1.25rem; margin: 0; }
dl.fields dt { color: var(--muted); }
dl.fields dd { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 36rem) {
  dl.fields { grid-template-columns: 1fr; }
  dl.fields dd { margin-bottom: .5rem; }
  main { padding: .75rem; }
}
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; }
pre { background: var(--code); padding: .8rem 1rem; border-radius: var(--radius); overflow-x: auto; margin: 0; }
label { display: block; font-weight: 600; margin: 0 0 .25rem; }
.field { margin: 0 0 1rem; }
.hint { color: var(--muted); font-size: .88rem; margin: .25rem 0 0; font-weight: 400; }
input[type="text"], input[type="search"], input[type="password"], input[type="url"], select, textarea {
  font: inherit; color: inherit; background: var(--panel); width: 100%; max-width: 36rem;
  padding: .45rem .6rem; border: 1px solid var(--line); border-radius: var(--radius);
}
input[aria-invalid="true"], textarea[aria-invalid="true"] { border-color: var(--danger); }
textarea.code { max-width: none; min-height: 12rem; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .88em; }
nav.tabs { display: flex; gap: .5rem; margin: 0 0 1rem; }
nav.tabs a[aria-current="page"] { font-weight: 650; text-decoration: underline; }
.check { display: flex; gap: .5rem; align-items: center; font-weight: 400; }
.error-text { color: var(--danger); font-size: .9rem; margin: .25rem 0 0; }
button, .button {
  font: inherit; display: inline-block; cursor: pointer; padding: .42rem .9rem; border-radius: var(--radius);
  border: 1px solid var(--line); background: var(--panel); color: var(--text); line-height: 1.4;
}
button:hover, .button:hover { border-color: var(--muted); text-decoration: none; }
button.primary, .button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
button.danger { color: var(--danger); border-color: var(--danger); }
button.danger.solid { background: var(--danger); color: #fff; }
form.inline { display: inline; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin-top: 1rem; }
.copy { display: flex; gap: .5rem; max-width: 44rem; }
.copy input { flex: 1; min-width: 0; max-width: none; font-family: ui-monospace, Menlo, Consolas, monospace; }
.badge { display: inline-block; font-size: .78rem; padding: .05rem .5rem; border-radius: 99px; border: 1px solid currentColor; }
.badge.ok { color: var(--ok); } .badge.off { color: var(--muted); } .badge.warn { color: var(--warn); }
.notice { border-left: 4px solid var(--accent); background: var(--panel); padding: .75rem 1rem; margin: 0 0 1rem; border-radius: var(--radius); }
.notice.warn { border-color: var(--warn); }
.notice.error { border-color: var(--danger); }
.muted { color: var(--muted); }
.pager { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; margin: .75rem 0; color: var(--muted); }
ul.plain { margin: .25rem 0; padding-left: 1.2rem; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: flex-end; margin: 0 0 1rem; }
form.filters .field { margin: 0; flex: 1 1 11rem; }
`.trim()

/**
 * Progressive enhancement only: every page works without it. Copy buttons copy their
 * target's value (else select it, for Ctrl+C); forms marked data-confirm ask first.
 */
const JS = `
document.addEventListener('click', function (e) {
  var b = e.target.closest && e.target.closest('button[data-copy]');
  if (!b) return;
  var field = document.getElementById(b.getAttribute('data-copy'));
  if (!field) return;
  field.select();
  var done = function () { b.textContent = 'Copied'; setTimeout(function () { b.textContent = 'Copy'; }, 1500); };
  if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(done, function () {});
  else if (document.execCommand('copy')) done();
});
document.addEventListener('submit', function (e) {
  var msg = e.target.getAttribute && e.target.getAttribute('data-confirm');
  if (msg && !window.confirm(msg)) e.preventDefault();
});
document.querySelectorAll('button[data-copy]').forEach(function (b) { b.hidden = false; });
`.trim()

function hashed(name: string, ext: string, body: string) {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12)
  return { path: `${name}.${hash}.${ext}`, body }
}

export const STYLESHEET = hashed('ui', 'css', CSS)
export const SCRIPT = hashed('ui', 'js', JS)
