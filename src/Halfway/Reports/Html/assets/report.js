// Draws each scenario of a halfway report from the data the page carries (nothing is fetched): the server over time
// (uPlot), one lifeline per connection, and a sequence diagram per fate and for any connection clicked.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var FATE_COLORS = {
    "accepted": "#4caf50", "accepted-late": "#8bc34a", "queued": "#03a9f4", "reset-on-data": "#e53935",
    "reset-at-handshake": "#ad1457", "stranded": "#ff9800", "still-half-established": "#ffc107",
    "client-aborted": "#795548", "handshake-incomplete": "#9e9e9e", "syn-dropped": "#607d8b",
    "refused": "#5e35b1", "unknown": "#bdbdbd"
  };
  // Connection tuple fields (see RunHtml.cs).
  var CLIENT = 0, FATE = 1, HALF = 2, KIND = 3, START = 4, CONNECTED = 5, COMPLETED = 6, ACCEPTED = 7, END = 8, RST = 9, RST_FROM = 10;
  var COLUMNS = ["client", "wire-to-server", "wire-to-client", "server"];

  function el(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, content, attrs) {
    var a = attrs || {};
    a.x = x; a.y = y;
    var t = el("text", a, parent);
    t.textContent = content;
    return t;
  }
  function color(fate) { return FATE_COLORS[fate] || "#bdbdbd"; }
  function seconds(ms) { return (ms / 1000).toFixed(ms < 10000 ? 3 : 2) + " s"; }

  function countUpTo(sorted, t) {
    var lo = 0, hi = sorted.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (sorted[mid] <= t) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function lastAtOrBefore(times, values, t) {
    var i = countUpTo(times, t) - 1;
    return i >= 0 ? values[i] : null;
  }

  function charts(section, d) {
    if (typeof uPlot === "undefined") return;
    var width = Math.min(1100, section.clientWidth || 1100);
    var end = Math.max(d.durationMs, 1);
    if (d.server && d.server.t.length > 0) {
      var s = d.server;
      var limit = s.t.map(function () { return s.limit; });
      new uPlot({
        title: "Server socket table (every sample)", width: width, height: 240,
        scales: { x: { time: false }, drops: { auto: true } },
        axes: [{ label: d.fromCapture ? "seconds since the capture's first packet" : "seconds since the lab started", values: function (u, v) { return v.map(function (x) { return (x / 1000).toFixed(1); }); } },
          { label: "sockets" }, { scale: "drops", side: 1, size: 70, label: "drops", grid: { show: false } }],
        series: [{ label: "t (ms)" },
          { label: "accept queue", stroke: "#1e88e5", width: 2, paths: uPlot.paths.stepped({ align: 1 }) },
          { label: "its limit", stroke: "#1e88e5", dash: [6, 4], width: 1 },
          { label: "request sockets (SYN-RECV)", stroke: "#fb8c00", width: 2, paths: uPlot.paths.stepped({ align: 1 }) },
          { label: "listener drops so far (right axis)", stroke: "#e53935", width: 1, scale: "drops", paths: uPlot.paths.stepped({ align: 1 }) }]
      }, [s.t, s.queue, limit, s.synRecv, s.drops], section.querySelector(".chart-queue"));
    }
    var starts = [], connected = [], accepted = [], resets = [];
    // A capture shows no accept(): its third line is the server's kernel completing the handshake.
    var third = d.fromCapture ? COMPLETED : ACCEPTED;
    d.c.forEach(function (c) {
      if (c[START] !== null) starts.push(c[START]);
      if (c[CONNECTED] !== null) connected.push(c[CONNECTED]);
      if (c[third] !== null) accepted.push(c[third]);
      if (c[RST] !== null) resets.push(c[RST]);
    });
    [starts, connected, accepted, resets].forEach(function (a) { a.sort(function (x, y) { return x - y; }); });
    var grid = [];
    var points = 400;
    for (var i = 0; i <= points; i++) grid.push(end * i / points);
    var data = [grid,
      grid.map(function (t) { return countUpTo(starts, t); }),
      grid.map(function (t) { return countUpTo(connected, t); }),
      grid.map(function (t) { return countUpTo(accepted, t); }),
      grid.map(function (t) { return countUpTo(resets, t); })];
    var series = [{ label: "t (ms)" },
      { label: d.fromCapture ? "first packet seen" : "connect() started", stroke: "#757575", width: 1 },
      { label: d.fromCapture ? "client connected (its ACK)" : "connect() returned ok", stroke: "#43a047", width: 2 },
      { label: d.fromCapture ? "completed by the server" : "accepted by the application", stroke: "#1e88e5", width: 2 },
      { label: "connections with a RST", stroke: "#e53935", width: 2 }];
    var palette = ["#8e24aa", "#6d4c41", "#00897b", "#f4511e", "#3949ab", "#c0ca33"];
    // The counters that tell the half-established story are shown; the rest can be switched on in the legend.
    var shown = { "ListenOverflows": 1, "SyncookiesSent": 1, "TcpOutRsts": 1, "EmbryonicRsts": 1 };
    Object.keys(d.counters.series).forEach(function (name, k) {
      var values = d.counters.series[name];
      data.push(grid.map(function (t) { return lastAtOrBefore(d.counters.t, values, t); }));
      series.push({ label: name + " (counter, right axis)", stroke: palette[k % palette.length], width: 1, dash: [3, 3], scale: "counters", show: !!shown[name], paths: uPlot.paths.stepped({ align: 1 }) });
    });
    new uPlot({
      title: "Connections and counters, cumulative", width: width, height: 260,
      scales: { x: { time: false }, counters: { auto: true } },
      axes: [{ label: d.fromCapture ? "seconds since the capture's first packet" : "seconds since the lab started", values: function (u, v) { return v.map(function (x) { return (x / 1000).toFixed(1); }); } },
        { label: "connections" }, { scale: "counters", side: 1, size: 70, label: "counters", grid: { show: false } }],
      series: series
    }, data, section.querySelector(".chart-counts"));
  }

  function lifelines(section, d, tooltip, onPick) {
    var holder = section.querySelector(".lifelines");
    var grouped = section.querySelector("input.group-by-fate");
    function draw() {
      holder.textContent = "";
      var order = d.c.map(function (c, i) { return i; });
      var byFate = grouped && grouped.checked;
      var fateCounts = {};
      d.c.forEach(function (c) { fateCounts[c[FATE]] = (fateCounts[c[FATE]] || 0) + 1; });
      order.sort(function (a, b) {
        var ca = d.c[a], cb = d.c[b];
        if (byFate && ca[FATE] !== cb[FATE]) return (fateCounts[cb[FATE]] - fateCounts[ca[FATE]]) || (ca[FATE] - cb[FATE]);
        return (ca[START] || 0) - (cb[START] || 0) || a - b;
      });
      var n = order.length;
      var row = n <= 150 ? 7 : n <= 600 ? 4 : 2;
      var labelWidth = 150, width = 1100, top = 22;
      var gaps = 0, prev = null;
      if (byFate) order.forEach(function (i) { if (d.c[i][FATE] !== prev) { gaps++; prev = d.c[i][FATE]; } });
      var height = top + n * row + gaps * 16 + 8;
      var svg = el("svg", { "class": "lifelines", width: width, height: height, viewBox: "0 0 " + width + " " + height, "data-connections": n }, holder);
      var scale = (width - labelWidth - 10) / Math.max(d.durationMs, 1);
      var x = function (ms) { return labelWidth + ms * scale; };
      for (var s = 0; s <= Math.floor(d.durationMs / 1000); s += Math.max(1, Math.ceil(d.durationMs / 1000 / 12))) {
        el("line", { x1: x(s * 1000), x2: x(s * 1000), y1: 14, y2: height, stroke: "#eee" }, svg);
        text(svg, x(s * 1000), 11, s + " s", { "font-size": 10, "text-anchor": "middle", fill: "#777" });
      }
      var y = top;
      prev = null;
      order.forEach(function (i) {
        var c = d.c[i];
        if (byFate && c[FATE] !== prev) {
          y += 12;
          text(svg, 4, y, d.fates[c[FATE]] + " (" + fateCounts[c[FATE]] + ")", { "font-size": 12, "font-weight": 600, fill: color(d.fates[c[FATE]]) });
          y += 4;
          prev = c[FATE];
        }
        var g = el("g", { "class": "life", "data-i": i, "data-fate": d.fates[c[FATE]] }, svg);
        var mid = y + row / 2;
        var fateColor = color(d.fates[c[FATE]]);
        var start = c[START] !== null ? c[START] : 0;
        var end = c[END] !== null ? c[END] : d.durationMs;
        var connected = c[CONNECTED];
        var stroke = Math.max(1, row - 1);
        if (connected === null) {
          el("line", { x1: x(start), x2: x(end), y1: mid, y2: mid, stroke: fateColor, "stroke-width": stroke, "stroke-opacity": 0.45 }, g);
        } else {
          el("line", { x1: x(start), x2: x(connected), y1: mid, y2: mid, stroke: "#9e9e9e", "stroke-width": stroke }, g);
          var completed = c[COMPLETED];
          var halfEnd = c[HALF] ? (completed !== null && completed > connected ? completed : end) : connected;
          if (halfEnd > connected)
            el("line", { x1: x(connected), x2: x(halfEnd), y1: mid, y2: mid, stroke: "#ff9800", "stroke-width": stroke, "stroke-dasharray": "3 2" }, g);
          if (end > halfEnd)
            el("line", { x1: x(halfEnd), x2: x(end), y1: mid, y2: mid, stroke: fateColor, "stroke-width": stroke }, g);
        }
        if (c[ACCEPTED] !== null)
          el("line", { x1: x(c[ACCEPTED]), x2: x(c[ACCEPTED]), y1: y, y2: y + row, stroke: "#0d47a1", "stroke-width": 1.5 }, g);
        if (c[RST] !== null)
          el("circle", { cx: x(c[RST]), cy: mid, r: Math.max(1.5, row / 2), fill: "#b71c1c" }, g);
        y += row;
      });
      svg.addEventListener("mousemove", function (ev) {
        var g = ev.target.closest ? ev.target.closest("g.life") : null;
        if (!g) { tooltip.style.display = "none"; return; }
        var c = d.c[+g.getAttribute("data-i")];
        tooltip.textContent = c[CLIENT] + " — " + d.fates[c[FATE]] + (c[HALF] ? " (half-established" + (d.kinds[c[KIND]] ? ", " + d.kinds[c[KIND]] : "") + ")" : "") +
          "; connect " + (c[CONNECTED] !== null ? "returned at +" + seconds(c[CONNECTED]) : "failed") +
          (c[ACCEPTED] !== null ? "; accepted at +" + seconds(c[ACCEPTED]) : "; never accepted") +
          (c[RST] !== null ? "; first RST (" + (c[RST_FROM] === 1 ? "client" : "server") + ") at +" + seconds(c[RST]) : "") + ". Click for its sequence.";
        tooltip.style.left = (ev.clientX + 12) + "px";
        tooltip.style.top = (ev.clientY + 12) + "px";
        tooltip.style.display = "block";
      });
      svg.addEventListener("mouseleave", function () { tooltip.style.display = "none"; });
      svg.addEventListener("click", function (ev) {
        var g = ev.target.closest ? ev.target.closest("g.life") : null;
        if (g) onPick(+g.getAttribute("data-i"));
      });
    }
    if (grouped) grouped.addEventListener("change", draw);
    draw();
  }

  // Client on the left, server on the right, one row per event in time order; packets are arrows between them.
  function sequence(d, i) {
    var c = d.c[i], tl = d.tl[i] || [];
    var rows = tl.length / 3;
    var width = 900, rowHeight = 19, top = 30;
    var clientX = 330, serverX = 690;
    var height = top + rows * rowHeight + 14;
    var svg = el("svg", { "class": "sequence-diagram", width: width, height: height, viewBox: "0 0 " + width + " " + height, "data-events": rows });
    var defs = el("defs", {}, svg);
    var marker = el("marker", { id: "arrow-" + d.id + "-" + i, markerWidth: 8, markerHeight: 8, refX: 7, refY: 4, orient: "auto" }, defs);
    el("path", { d: "M0,0 L8,4 L0,8 z", fill: "#444" }, marker);
    text(svg, clientX, 14, "client " + c[CLIENT], { "text-anchor": "middle", "font-size": 12, "font-weight": 600 });
    text(svg, serverX, 14, "server " + d.server_address, { "text-anchor": "middle", "font-size": 12, "font-weight": 600 });
    el("line", { x1: clientX, x2: clientX, y1: 20, y2: height - 4, stroke: "#999" }, svg);
    el("line", { x1: serverX, x2: serverX, y1: 20, y2: height - 4, stroke: "#999" }, svg);
    for (var r = 0; r < rows; r++) {
      var at = tl[3 * r], column = tl[3 * r + 1], label = d.strings[tl[3 * r + 2]];
      var y = top + r * rowHeight + 8;
      text(svg, 4, y + 4, "+" + seconds(at), { "font-size": 11, fill: "#666", "class": "mono" });
      var lost = label.indexOf("dropped by the link") >= 0 || label.indexOf("in flight") >= 0;
      if (column === 1 || column === 2) {
        var from = column === 1 ? clientX : serverX, to = column === 1 ? serverX : clientX;
        var stop = lost ? (from + to) / 2 : to;
        el("line", { x1: from, x2: stop + (column === 1 ? -2 : 2), y1: y, y2: y, stroke: lost ? "#c62828" : "#444", "stroke-width": 1.3, "marker-end": lost ? "" : "url(#arrow-" + d.id + "-" + i + ")" }, svg);
        if (lost) text(svg, stop, y + 4, "✕", { "text-anchor": "middle", fill: "#c62828", "font-size": 13 });
        text(svg, (clientX + serverX) / 2, y - 3, label, { "text-anchor": "middle", "font-size": 11, fill: lost ? "#c62828" : "#111" });
      } else if (column === 0) {
        text(svg, clientX - 8, y + 4, label, { "text-anchor": "end", "font-size": 11, fill: "#1b5e20" });
      } else {
        text(svg, serverX + 8, y + 4, label, { "text-anchor": "start", "font-size": 11, fill: "#0d47a1" });
      }
    }
    return svg;
  }

  function figure(d, i, caption) {
    var f = document.createElement("figure");
    f.className = "sequence";
    f.setAttribute("data-fate", d.fates[d.c[i][FATE]]);
    var cap = document.createElement("figcaption");
    cap.textContent = caption;
    f.appendChild(cap);
    f.appendChild(sequence(d, i));
    return f;
  }

  var tooltip = document.createElement("div");
  tooltip.className = "tooltip";
  document.body.appendChild(tooltip);
  Array.prototype.forEach.call(document.querySelectorAll("section.scenario"), function (section) {
    var d = JSON.parse(section.querySelector("script.scenario-data").textContent);
    charts(section, d);
    var reps = section.querySelector(".representatives");
    d.reps.forEach(function (rep) {
      var i = rep[1], c = d.c[i];
      reps.appendChild(figure(d, i, rep[0] + " — for example " + c[CLIENT] + (c[HALF] ? " (half-established" + (d.kinds[c[KIND]] ? ", " + d.kinds[c[KIND]] : "") + ")" : "")));
    });
    var picked = section.querySelector(".picked");
    lifelines(section, d, tooltip, function (i) {
      picked.textContent = "";
      picked.appendChild(figure(d, i, "Picked: " + d.c[i][CLIENT] + " — " + d.fates[d.c[i][FATE]]));
      picked.scrollIntoView({ block: "nearest" });
    });
  });
  document.body.setAttribute("data-drawn-ms", performance.now().toFixed(0));
})();
