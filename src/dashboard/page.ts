/**
 * The dashboard page, one self-contained HTML document (no CDN, no build step): the nodes with
 * their state, the bucket map as a grid coloured by owner, per-node load share, and a scrolling
 * event timeline. It listens to /events (server-sent events) and redraws on every `state`.
 * Buckets that changed owner in the last seconds are outlined; buckets whose owner is not alive
 * in this node's view are hatched (waiting for the takeover).
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vmac dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { --bg:#0f1419; --panel:#182028; --fg:#e6e6e6; --dim:#8a96a3; }
  body { margin:0; font:14px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--fg); }
  header { padding:10px 16px; background:var(--panel); display:flex; gap:24px; align-items:baseline; flex-wrap:wrap; }
  header h1 { font-size:18px; margin:0; }
  .dim { color:var(--dim); }
  main { display:grid; grid-template-columns: 300px 1fr 340px; gap:12px; padding:12px; }
  section { background:var(--panel); border-radius:6px; padding:10px; }
  h2 { font-size:13px; text-transform:uppercase; letter-spacing:.05em; color:var(--dim); margin:0 0 8px; }
  .node { display:flex; align-items:center; gap:8px; padding:6px; border-radius:4px; margin-bottom:6px; background:#1f2a35; }
  .swatch { width:14px; height:14px; border-radius:3px; flex:none; }
  .badge { font-size:11px; padding:1px 6px; border-radius:8px; background:#2c3a48; }
  .st-alive { background:#1d6b3a; } .st-suspect { background:#8a6d00; } .st-dead { background:#8b1e1e; } .st-unknown { background:#444; }
  .share { height:8px; background:#2c3a48; border-radius:4px; margin-top:3px; }
  .share > div { height:8px; border-radius:4px; }
  #grid { display:grid; gap:2px; }
  .cell { aspect-ratio:1; border-radius:2px; font-size:9px; display:flex; align-items:center; justify-content:center; color:rgba(0,0,0,.55); transition: background-color .3s; }
  .cell.orphan { background-image: repeating-linear-gradient(45deg, rgba(0,0,0,.55) 0 3px, transparent 3px 6px); }
  .cell.moving { outline:2px solid #fff; outline-offset:-2px; animation: pulse 1s ease-in-out infinite; }
  .cell.mine { box-shadow: inset 0 0 0 1px rgba(255,255,255,.35); }
  @keyframes pulse { 50% { opacity:.55; } }
  #timeline { list-style:none; margin:0; padding:0; max-height:70vh; overflow-y:auto; font-size:12px; }
  #timeline li { padding:3px 0; border-bottom:1px solid #24303c; }
  .ev-node-dead, .ev-lease-stopped { color:#ff8a80; } .ev-takeover { color:#ffd54f; } .ev-node-joined, .ev-serving { color:#a5d6a7; }
  .ev-node-draining, .ev-node-leaving { color:#90caf9; } .ev-fence { color:#ce93d8; }
  #conn { font-size:12px; }
</style></head>
<body>
<header><h1>vmac <span id="service"></span></h1>
  <span>VIP <b id="vip">-</b> &middot; VMAC <span id="vmac" class="dim">-</span> &middot; mode <b id="mode">-</b></span>
  <span>seen from <b id="self">-</b></span>
  <span>quorum <b id="quorum">-</b> &middot; epoch <span id="epoch">-</span></span>
  <span>accepted here <b id="pps">-</b> pkt/s</span>
  <span id="conn" class="dim">connecting...</span></header>
<main>
  <section><h2>Nodes &amp; load share</h2><div id="nodes"></div></section>
  <section><h2>Bucket map <span class="dim" id="gridnote"></span></h2><div id="grid"></div></section>
  <section><h2>Events</h2><ul id="timeline"></ul></section>
</main>
<script>
const PALETTE = ['#4fc3f7','#81c784','#ffb74d','#f06292','#ba68c8','#4db6ac','#fff176','#a1887f','#90a4ae','#e57373','#aed581','#7986cb'];
const colour = (id) => PALETTE[(id - 1) % PALETTE.length];
const $ = (id) => document.getElementById(id);
let cells = [];
function fmtTime(ms) { const d = new Date(ms); return d.toISOString().slice(11, 23); }
function drawGrid(s) {
  const grid = $('grid');
  if (cells.length !== s.map.length) {
    grid.innerHTML = '';
    grid.style.gridTemplateColumns = 'repeat(' + Math.ceil(Math.sqrt(s.map.length)) + ', 1fr)';
    cells = s.map.map((_, b) => { const c = document.createElement('div'); c.className = 'cell'; c.dataset.bucket = b; c.title = 'bucket ' + b; grid.appendChild(c); return c; });
  }
  const status = new Map(s.nodes.map((n) => [n.id, n.status]));
  const moving = new Set(s.moving);
  s.map.forEach((owner, b) => {
    const c = cells[b];
    if (c.dataset.owner !== String(owner)) { c.dataset.owner = String(owner); c.style.backgroundColor = colour(owner); }
    c.classList.toggle('orphan', status.get(owner) !== 'alive');
    c.classList.toggle('moving', moving.has(b));
    c.classList.toggle('mine', owner === s.self.id);
  });
  $('gridnote').textContent = s.map.length + ' buckets' + (s.moving.length ? ' - ' + s.moving.length + ' just moved' : '');
}
function drawNodes(s) {
  const total = s.map.length || 1;
  $('nodes').innerHTML = s.nodes.map((n) => {
    const share = (100 * n.buckets / total).toFixed(1);
    const heard = n.id === s.self.id ? 'this node' : n.lastHeardMsAgo === null ? 'never heard' : 'heard ' + n.lastHeardMsAgo + ' ms ago';
    return '<div class="node" data-node="' + n.name + '" data-status="' + n.status + '">'
      + '<div class="swatch" style="background:' + colour(n.id) + '"></div>'
      + '<div style="flex:1"><b>' + n.name + '</b> <span class="badge st-' + n.status + '">' + n.status + '</span> '
      + '<span class="badge">' + (n.state ?? '?') + '</span><div class="dim" style="font-size:11px">' + heard + ' &middot; ' + n.buckets + ' buckets (' + share + '%)</div>'
      + '<div class="share"><div style="width:' + share + '%;background:' + colour(n.id) + '"></div></div></div></div>';
  }).join('');
}
function onState(s) {
  $('service').textContent = s.service; $('vip').textContent = [s.vip, s.vip6].filter(Boolean).join(' / '); $('vmac').textContent = s.vmac; $('mode').textContent = s.mode || 'unicast';
  $('self').textContent = s.self.name + ' (' + s.self.state + ')';
  $('quorum').textContent = s.quorum ? 'yes' : 'NO'; $('epoch').textContent = s.epoch;
  $('pps').textContent = s.acceptedPps === null ? '-' : Math.round(s.acceptedPps);
  drawNodes(s); drawGrid(s);
  document.body.dataset.epoch = s.epoch;
}
function onTimeline(e) {
  const li = document.createElement('li');
  li.className = 'ev-' + e.event;
  li.dataset.event = e.event;
  const bits = [fmtTime(e.atMs), e.event, e.node ?? '', e.buckets !== undefined ? e.buckets + ' buckets' : '', e.reason ?? '', e.durationMs !== undefined ? e.durationMs + ' ms' : ''];
  li.textContent = bits.filter(Boolean).join('  ');
  const ul = $('timeline');
  ul.insertBefore(li, ul.firstChild);
  while (ul.children.length > 200) ul.removeChild(ul.lastChild);
}
const es = new EventSource('/events');
es.addEventListener('state', (m) => onState(JSON.parse(m.data)));
es.addEventListener('timeline', (m) => onTimeline(JSON.parse(m.data)));
es.onopen = () => { $('conn').textContent = 'live'; };
es.onerror = () => { $('conn').textContent = 'reconnecting...'; };
</script></body></html>
`;
