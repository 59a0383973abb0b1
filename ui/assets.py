"""The app's own CSS and its three small JavaScript snippets (no external assets).

`CITE_JS` turns clicks on `rag-ref-TURN-KIND-N` elements (chat markers, source cards)
into one Gradio "cite" (or "standalone") event; `SCROLL_JS` scrolls the highlighted quote
of the article view into sight; `LIBRARY_JS` opens library titles in the reader. `CSS`
styles only the app's own `rag-*` classes. No fonts, images or scripts are loaded from
anywhere.
"""

# Shared by both snippets: scroll the nearest scrolling box around `mark` so the mark sits
# in its middle; scroll the page only if the mark is still off screen.
_REVEAL = """
const reveal = (mark) => {
  let box = mark.parentElement;
  while (box && box !== document.body) {
    const y = getComputedStyle(box).overflowY;
    if ((y === 'auto' || y === 'scroll') && box.scrollHeight > box.clientHeight) break;
    box = box.parentElement;
  }
  if (!box || box === document.body) { mark.scrollIntoView({block: 'center'}); return; }
  const m = mark.getBoundingClientRect(), b = box.getBoundingClientRect();
  box.scrollTop += (m.top - b.top) - (box.clientHeight - m.height) / 2;
  const after = mark.getBoundingClientRect();
  if (after.top < 0 || after.bottom > innerHeight) mark.scrollIntoView({block: 'center'});
};
"""
# Runs when the sources panel mounts. Once per page, clicks (or Enter/Space) on anything
# with a rag-ref-TURN-KIND-N class, in the chat or the panel, become one "cite" event
# (KIND c: a citation, p: a passage) or a "standalone" event (KIND s: ask that question
# again without the earlier ones). After each update, every passage box scrolls to its
# highlighted quote.
CITE_JS = (
    _REVEAL
    + """
if (!window.__ragCite) {
  window.__ragCite = true;
  const target = (node) => {
    const el = node instanceof Element ? node.closest('.rag-ref') : null;
    const m = el && /(?:^|\\s)rag-ref-(\\d+)-([cps])-(\\d+)(?:\\s|$)/.exec(el.className);
    return m ? {turn: Number(m[1]), kind: m[2], n: Number(m[3])} : null;
  };
  const fire = (ref) => {
    if (ref.kind === 's') { trigger('standalone', ref); return; }
    document.querySelector('#rag-article .rag-article')?.classList.remove('rag-closed');
    trigger('cite', ref);
  };
  document.addEventListener('click', (ev) => {
    if (ev.target instanceof Element && ev.target.closest('a[href]')) return;
    const ref = target(ev.target);
    if (!ref) return;
    ev.preventDefault(); ev.stopPropagation();
    fire(ref);
  }, true);
  document.addEventListener('keydown', (ev) => {
    const ref = ev.target instanceof Element && ev.target.matches('article.rag-ref')
      ? target(ev.target) : null;
    if (ref && (ev.key === 'Enter' || ev.key === ' ')) {
      ev.preventDefault(); fire(ref);
    }
  }, true);
}
watch('value', () => requestAnimationFrame(() => element
  .querySelectorAll('.rag-passage mark.rag-quote').forEach((mark) => {
    const box = mark.closest('.rag-passage'), m = mark.getBoundingClientRect();
    box.scrollTop += (m.top - box.getBoundingClientRect().top) - box.clientHeight / 3;
  })));
"""
)
# Runs when the article view mounts and after each update: bring the marked quote into
# view (centred), or the top of an article opened from the library. "Back to the sources"
# closes the article (CSS then shows the sources panel in its place).
SCROLL_JS = (
    _REVEAL
    + """
const show = () => {
  const mark = element.querySelector('mark.rag-quote');
  const text = element.querySelector('.rag-article-text');
  if (mark) requestAnimationFrame(() => reveal(mark));
  else if (text) text.scrollTop = 0;
};
element.addEventListener('click', (ev) => {
  if (ev.target instanceof Element && ev.target.closest('.rag-back')) {
    element.querySelector('.rag-article')?.classList.add('rag-closed');
  }
});
watch('value', show);
show();
"""
)
# Runs when the library table mounts: a title opens the article in the reader ("read").
LIBRARY_JS = """
element.addEventListener('click', (ev) => {
  const button = ev.target instanceof Element ? ev.target.closest('button.rag-doc') : null;
  if (button) { ev.preventDefault(); trigger('read', {doc: button.dataset.doc}); }
});
"""
CSS = """
.rag-answer, .rag-user { line-height: 1.5; }
.rag-cite { font: inherit; display: inline; padding: 0 2px; margin: 0 1px; border: 0;
  background: none; color: var(--color-accent); font-weight: 600; cursor: pointer; }
.rag-cite:hover, .rag-srcbtn:hover { text-decoration: underline; }
.rag-srclist { margin: 6px 0 0 0; padding-left: 0; list-style: none; font-size: 0.9em; }
.rag-srcbtn { font: inherit; border: 0; background: none; padding: 0;
  color: var(--color-accent); cursor: pointer; text-align: left; }
.rag-searched { font-size: 0.85em; opacity: 0.8; font-style: italic; margin-bottom: 4px; }
.rag-abstain { border-left: 4px solid #d97706; padding: 4px 8px;
  background: rgba(217, 119, 6, 0.08); }
.rag-closest { margin-top: 6px; font-size: 0.9em; }
/* An unsure reply: a lead, not an answer; muted and dashed so it never reads as one. */
.rag-unsure { border: 1px dashed #9ca3af; border-radius: 6px; padding: 4px 8px;
  background: rgba(107, 114, 128, 0.08); }
.rag-unsure-label { display: block; font-size: 0.85em; font-weight: 600; font-style: italic;
  color: #6b7280; }
.rag-error { border-left: 4px solid #dc2626; padding: 4px 8px;
  background: rgba(220, 38, 38, 0.08); }
.rag-meta { font-size: 0.85em; opacity: 0.85; }
.rag-badurl { font-family: var(--font-mono); }
.rag-empty { opacity: 0.75; padding: 8px; }
.rag-for { font-weight: 600; margin-bottom: 6px; }
.rag-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
  margin: 8px 0; cursor: pointer; background: var(--background-fill-primary); }
.rag-card:hover, .rag-card:focus { border-color: var(--color-accent); outline: none; }
.rag-card-head .rag-n { font-weight: 700; color: var(--color-accent); }
.rag-title { font-weight: 600; }
.rag-score { font-size: 0.8em; font-family: var(--font-mono); opacity: 0.8; }
.rag-passage { margin: 6px 0; padding: 0 0 0 8px;
  border-left: 3px solid var(--border-color-primary); font-size: 0.9em;
  white-space: pre-wrap; max-height: 12em; overflow: auto; }
.rag-open { font-size: 0.85em; color: var(--color-accent); }
mark.rag-quote { background: #fde68a; color: #111; padding: 0 1px; border-radius: 2px; }
mark.rag-passage-mark { background: #dbeafe; }
.rag-article-head { position: sticky; top: -10px; z-index: 1; padding: 10px 0 6px 0;
  margin-top: -10px;
  background: var(--background-fill-primary);
  border-bottom: 1px solid var(--border-color-primary); }
.rag-article-label { font-size: 0.85em; text-transform: uppercase; letter-spacing: 0.04em;
  opacity: 0.75; }
.rag-article-title { margin: 2px 0 4px 0; }
.rag-article-text { white-space: pre-wrap; margin-top: 8px; line-height: 1.55; }
#rag-article { border: 1px solid var(--border-color-primary); border-radius: 8px;
  background: var(--background-fill-primary); max-height: calc(100vh - 150px);
  min-height: 0; overflow-y: auto !important; }
#rag-sources { max-height: calc(100vh - 150px); overflow-y: auto !important; }
/* An open article takes the whole right column; "Back" (rag-closed) gives it back. */
#rag-right:has(#rag-article .rag-article:not(.rag-closed)) #rag-sources { display: none; }
#rag-article:has(.rag-closed) { display: none; }
.rag-back, .rag-again, .rag-doc { font: inherit; border: 0; background: none; padding: 0;
  color: var(--color-accent); cursor: pointer; text-align: left; }
.rag-back { font-size: 0.85em; margin-bottom: 4px; }
.rag-again { font-style: normal; text-decoration: underline; margin-left: 6px; }
.rag-doc { font-weight: 600; }
.rag-doc:hover, .rag-back:hover { text-decoration: underline; }
.rag-note { border-left: 4px solid #2563eb; padding: 4px 8px; margin-bottom: 4px;
  background: rgba(37, 99, 235, 0.08); font-size: 0.9em; }
.rag-confidence { font-size: 0.8em; opacity: 0.75; margin-top: 2px; }
.rag-confirm { border: 2px solid #dc2626 !important; }
.rag-library { width: 100%; border-collapse: collapse; font-size: 0.9em; }
.rag-library a { color: var(--link-text-color); }
.rag-library th { font-weight: 600; background: var(--background-fill-secondary); }
.rag-report, .rag-libcount { padding: 0 4px; }
.rag-library th, .rag-library td { border-bottom: 1px solid var(--border-color-primary);
  padding: 4px 6px; text-align: left; vertical-align: top; }
.rag-num { text-align: right; }
.rag-file { font-family: var(--font-mono); font-size: 0.9em; word-break: break-all; }
.rag-report ul { list-style: none; padding-left: 0; }
.rag-ok::before { content: "✔ "; color: #16a34a; }
.rag-fail::before { content: "✘ "; color: #dc2626; }
.rag-libcount, .rag-summary { margin: 4px 0; font-weight: 600; }
/* The chat's own "Clear" icon would drop the conversation unasked: "Delete…" asks. */
#rag-chat button[aria-label="Clear"] { display: none; }
/* Example questions: whole sentences, never cut with "…". */
#rag-chat .placeholder-content button, #rag-chat .example { white-space: normal;
  overflow: visible; text-overflow: clip; height: auto; }
#rag-chat .example-text, #rag-chat .example-display-text { white-space: normal;
  overflow: visible; text-overflow: clip; -webkit-line-clamp: unset; display: block; }
/* Phone width: each library row becomes a card of labelled lines; nothing is cut off. */
@media (max-width: 640px) {
  .rag-library thead { display: none; }
  .rag-library, .rag-library tbody, .rag-library tr, .rag-library td { display: block;
    width: 100%; box-sizing: border-box; }
  .rag-library tr { border: 1px solid var(--border-color-primary); border-radius: 8px;
    margin: 8px 0; padding: 4px 0; }
  .rag-library td { border: 0; padding: 2px 8px; text-align: left; }
  .rag-library td::before { content: attr(data-label) ": "; font-weight: 600; opacity: 0.7; }
}
"""
