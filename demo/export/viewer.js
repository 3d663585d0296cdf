/* pose3d-lifter 3D viewer: canvas 2D drawing with a small perspective camera, playback and controls.
 *
 * Copied into each viewer page after the embedded data (the JSON script element with the id
 * "pose-data", layout: demo/export/viewer.py). World: metres, z up, floor z = 0.
 * Camera: orbit around a target point at azimuth `az` (around z, from +x towards +y) and
 * elevation `el` (above the floor), at a distance; pinhole projection with one focal length
 * (pixels) and the principal point at the canvas centre. No library, works offline.
 */
(function () {
  "use strict";

  var DEG = Math.PI / 180;
  var NEAR = 0.05; // metres: nearer points are clipped
  var FLOOR_COLOR = "rgb(236,236,236)";
  var GRID_COLOR = "rgb(205,205,205)";
  var EDGE_COLOR = "rgb(170,170,170)";
  var SHADOW_COLOR = "rgb(188,188,188)";
  var CAMERA_COLOR = "rgb(80,80,80)";
  var BG_COLOR = "rgb(250,250,250)";
  var AXIS_COLORS = ["rgb(190,70,70)", "rgb(70,150,70)", "rgb(70,90,190)"];

  var body = document.body;
  var data = JSON.parse(document.getElementById("pose-data").textContent);
  var times = data.time_s;
  var T = times.length;
  var J = data.joints.length;
  var parents = data.parents;
  var isLeft = [];
  for (var j = 0; j < J; j++) isLeft.push(data.left.indexOf(j) >= 0);
  var head = data.joints.indexOf("head");
  var frameDt = data.fps > 0 ? 1 / data.fps : (T > 1 ? times[1] - times[0] : 1 / 30);

  var canvas = document.getElementById("canvas");
  var ctx = canvas.getContext("2d");
  var playButton = document.getElementById("play");
  var slider = document.getElementById("slider");
  var readout = document.getElementById("readout");
  var speedSelect = document.getElementById("speed");
  var video = document.getElementById("video");
  var videoPanel = document.getElementById("videoPanel");

  var view0 = data.view;
  var state = {
    frame: 0, playing: false, speed: 1,
    az: view0.azimuth_deg, el: view0.elevation_deg, zoom: 1, pan: [0, 0, 0],
    clockStart: 0, clockTime: 0,
    videoOk: false, videoFailed: false, videoBlocked: false,
    width: 1, height: 1, focal: 1
  };

  // ---------- small vector helpers ----------
  function sub(a, b) { return [a[0] - b[0], a[1] - b[1], a[2] - b[2]]; }
  function add(a, b) { return [a[0] + b[0], a[1] + b[1], a[2] + b[2]]; }
  function scale(a, s) { return [a[0] * s, a[1] * s, a[2] * s]; }
  function dot(a, b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
  function cross(a, b) { return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]; }
  function unit(a) { var n = Math.sqrt(dot(a, a)) || 1; return scale(a, 1 / n); }
  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }

  // ---------- camera ----------
  // Eye, target and basis (rows: right, up, forward) for an azimuth/elevation (degrees) and distance.
  function makeCamera(azDeg, elDeg, distance, pan) {
    var az = azDeg * DEG, el = elDeg * DEG;
    var toEye = [Math.cos(el) * Math.cos(az), Math.cos(el) * Math.sin(az), Math.sin(el)];
    var target = add(view0.target, pan);
    var eye = add(target, scale(toEye, distance));
    var fwd = scale(toEye, -1);
    var right = unit(cross(fwd, [0, 0, 1]));
    var up = cross(right, fwd);
    return { eye: eye, right: right, up: up, fwd: fwd, target: target };
  }

  var cam = null;
  function updateCamera() {
    cam = makeCamera(state.az, state.el, view0.distance * state.zoom, state.pan);
  }

  // World point -> camera coordinates [x right, y up, depth].
  function toCam(p) {
    var d = sub(p, cam.eye);
    return [dot(d, cam.right), dot(d, cam.up), dot(d, cam.fwd)];
  }
  // Camera coordinates -> canvas pixels [x, y] (CSS pixels); depth must be > 0.
  function toScreen(c) {
    return [state.width / 2 + state.focal * c[0] / c[2], state.height / 2 - state.focal * c[1] / c[2]];
  }

  // The focal length that fits the scene box, seen from the default view, into `fit` of the canvas.
  function fitFocal() {
    var c0 = makeCamera(view0.azimuth_deg, view0.elevation_deg, view0.distance, [0, 0, 0]);
    var lo = view0.bounds[0], hi = view0.bounds[1];
    var halfW = view0.fit * state.width / 2, halfH = view0.fit * state.height / 2;
    var focal = Infinity;
    for (var i = 0; i < 8; i++) {
      var p = [i & 1 ? hi[0] : lo[0], i & 2 ? hi[1] : lo[1], i & 4 ? hi[2] : lo[2]];
      var d = sub(p, c0.eye);
      var depth = dot(d, c0.fwd);
      if (depth <= NEAR) continue;
      var u = Math.abs(dot(d, c0.right) / depth), v = Math.abs(dot(d, c0.up) / depth);
      if (u > 1e-9) focal = Math.min(focal, halfW / u);
      if (v > 1e-9) focal = Math.min(focal, halfH / v);
    }
    return isFinite(focal) ? focal : Math.min(state.width, state.height);
  }

  // A world segment clipped to the near plane -> two screen points, or null when all of it is behind.
  function segment(a, b) {
    var ca = toCam(a), cb = toCam(b);
    if (ca[2] < NEAR && cb[2] < NEAR) return null;
    if (ca[2] < NEAR || cb[2] < NEAR) {
      var s = (NEAR - ca[2]) / (cb[2] - ca[2]);
      var cut = [ca[0] + s * (cb[0] - ca[0]), ca[1] + s * (cb[1] - ca[1]), NEAR];
      if (ca[2] < NEAR) ca = cut; else cb = cut;
    }
    return [toScreen(ca), toScreen(cb), (ca[2] + cb[2]) / 2];
  }

  // ---------- time ----------
  // The last frame whose time has come at video time t (seconds).
  function frameAt(t) {
    if (T === 0) return 0;
    var lo = 0, hi = T - 1;
    if (t < times[0]) return 0;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (times[mid] <= t + 1e-6) lo = mid; else hi = mid - 1;
    }
    return lo;
  }
  // A time inside frame f (half a frame after its start): seeking there shows frame f.
  function frameMid(f) {
    var next = f + 1 < T ? times[f + 1] : times[f] + frameDt;
    return times[f] + 0.5 * (next - times[f]);
  }
  function endTime() { return T ? times[T - 1] + frameDt : 0; }

  // ---------- drawing ----------
  function person(p, f) {
    var row = p.frames[f];
    if (!row) return null;
    var pts = [];
    for (var k = 0; k < J; k++) pts.push([row[3 * k] / 1000, row[3 * k + 1] / 1000, row[3 * k + 2] / 1000]);
    return pts;
  }

  function line(a, b, color, width) {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0], b[1]);
    ctx.stroke();
  }

  function drawFloor() {
    var fl = data.floor, z = 0;
    if (fl.shaded) {
      // the floor rectangle, clipped against the near plane (one plane: Sutherland-Hodgman)
      var corners = [[fl.lo[0], fl.lo[1], z], [fl.hi[0], fl.lo[1], z], [fl.hi[0], fl.hi[1], z],
        [fl.lo[0], fl.hi[1], z]];
      var cs = corners.map(toCam), poly = [];
      for (var i = 0; i < 4; i++) {
        var a = cs[i], b = cs[(i + 1) % 4];
        if (a[2] >= NEAR) poly.push(a);
        if ((a[2] >= NEAR) !== (b[2] >= NEAR)) {
          var s = (NEAR - a[2]) / (b[2] - a[2]);
          poly.push([a[0] + s * (b[0] - a[0]), a[1] + s * (b[1] - a[1]), NEAR]);
        }
      }
      if (poly.length >= 3) {
        ctx.fillStyle = FLOOR_COLOR;
        ctx.beginPath();
        poly.forEach(function (c, k) {
          var q = toScreen(c);
          if (k) ctx.lineTo(q[0], q[1]); else ctx.moveTo(q[0], q[1]);
        });
        ctx.closePath();
        ctx.fill();
      }
    }
    var step = fl.step;
    for (var axis = 0; axis < 2; axis++) {
      var other = 1 - axis;
      var start = Math.ceil(fl.lo[axis] / step - 1e-9) * step;
      for (var v = start; v <= fl.hi[axis] + 1e-9; v += step) {
        var a2 = [0, 0, z], b2 = [0, 0, z];
        a2[axis] = v; b2[axis] = v;
        a2[other] = fl.lo[other]; b2[other] = fl.hi[other];
        var sg = segment(a2, b2);
        if (sg) line(sg[0], sg[1], GRID_COLOR, 1);
      }
    }
    var edge = [[fl.lo[0], fl.lo[1]], [fl.hi[0], fl.lo[1]], [fl.hi[0], fl.hi[1]], [fl.lo[0], fl.hi[1]]];
    for (var e = 0; e < 4; e++) {
      var p0 = edge[e], p1 = edge[(e + 1) % 4];
      var se = segment([p0[0], p0[1], z], [p1[0], p1[1], z]);
      if (se) line(se[0], se[1], EDGE_COLOR, 1.2);
    }
  }

  function drawCameraMark() {
    if (!data.camera_mm) return;
    var c = data.camera_mm.map(function (v) { return v / 1000; });
    var foot = [c[0], c[1], 0];
    ctx.setLineDash([4, 4]);
    var sg = segment(foot, c);
    if (sg) line(sg[0], sg[1], CAMERA_COLOR, 1);
    ctx.setLineDash([]);
    var cc = toCam(c);
    if (cc[2] < NEAR) return;
    var q = toScreen(cc);
    ctx.fillStyle = CAMERA_COLOR;
    ctx.fillRect(q[0] - 6, q[1] - 4, 12, 8);
    ctx.font = "12px sans-serif";
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillText("camera", q[0] + 9, q[1]);
  }

  function drawAxes() {
    var o = [34, state.height - 34], len = 22;
    ctx.font = "11px sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ["x", "y", "z"].forEach(function (name, k) {
      var e = [0, 0, 0];
      e[k] = 1;
      var tip = [o[0] + len * dot(e, cam.right), o[1] - len * dot(e, cam.up)];
      line(o, tip, AXIS_COLORS[k], 2);
      ctx.fillStyle = AXIS_COLORS[k];
      ctx.fillText(name, o[0] + 1.45 * len * dot(e, cam.right), o[1] - 1.45 * len * dot(e, cam.up));
    });
  }

  function drawLabel(text, at, color) {
    ctx.font = "bold 12px sans-serif";
    var w = ctx.measureText(text).width + 10, h = 17;
    var x = at[0] - w / 2, y = at[1] - h;
    ctx.fillStyle = color;
    ctx.beginPath();
    if (ctx.roundRect) ctx.roundRect(x, y, w, h, 3); else ctx.rect(x, y, w, h);
    ctx.fill();
    ctx.fillStyle = "#fff";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(text, at[0], y + h / 2 + 0.5);
  }

  function draw() {
    var dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = BG_COLOR;
    ctx.fillRect(0, 0, state.width, state.height);
    ctx.lineCap = "round";
    updateCamera();
    drawFloor();
    drawCameraMark();

    var f = state.frame, items = [], labels = [], shown = 0;
    data.people.forEach(function (p) {
      var pts = person(p, f);
      if (!pts) return;
      shown++;
      // shadow on the floor, under everything that stands on it
      for (var k = 0; k < J; k++) {
        if (parents[k] < 0) continue;
        var s = segment([pts[k][0], pts[k][1], 0], [pts[parents[k]][0], pts[parents[k]][1], 0]);
        if (s) line(s[0], s[1], SHADOW_COLOR, 3);
      }
      var cams = pts.map(toCam);
      for (var b = 0; b < J; b++) {
        var color = isLeft[b] ? p.tint : p.color;
        if (parents[b] >= 0) {
          var sg = segment(pts[b], pts[parents[b]]);
          if (sg) items.push({ depth: sg[2], kind: "bone", a: sg[0], b: sg[1], color: color });
        }
        if (cams[b][2] >= NEAR) items.push({ depth: cams[b][2], kind: "joint", a: toScreen(cams[b]), color: color });
      }
      var top = pts[head >= 0 ? head : 0];
      var lc = toCam([top[0], top[1], top[2] + 0.2]);
      if (lc[2] >= NEAR) labels.push({ depth: lc[2], at: toScreen(lc), text: "ID " + p.id, color: p.color });
    });
    // painter's order: far to near
    items.sort(function (x, y) { return y.depth - x.depth; });
    items.forEach(function (it) {
      var px = state.focal / it.depth; // pixels per metre at that depth
      if (it.kind === "bone") {
        line(it.a, it.b, it.color, clamp(0.035 * px, 2, 14));
      } else {
        ctx.fillStyle = it.color;
        ctx.beginPath();
        ctx.arc(it.a[0], it.a[1], clamp(0.03 * px, 2, 12), 0, 2 * Math.PI);
        ctx.fill();
      }
    });
    labels.sort(function (x, y) { return y.depth - x.depth; });
    labels.forEach(function (l) { drawLabel(l.text, l.at, l.color); });

    if (!shown) {
      ctx.fillStyle = "#555";
      ctx.font = "15px sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      ctx.fillText(data.people.length ? "no person in this frame" : "no person in this video", state.width / 2, 14);
    }
    drawAxes();
    if (body.dataset.ready !== "1") body.dataset.ready = "1";
  }

  var drawPending = false;
  function requestDraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(function () { drawPending = false; draw(); });
  }

  function resize() {
    var rect = canvas.getBoundingClientRect();
    var dpr = window.devicePixelRatio || 1;
    state.width = Math.max(1, rect.width);
    state.height = Math.max(1, rect.height);
    canvas.width = Math.max(1, Math.round(rect.width * dpr));
    canvas.height = Math.max(1, Math.round(rect.height * dpr));
    state.focal = fitFocal();
    body.dataset.canvas = [rect.left, rect.top, rect.width, rect.height]
      .map(function (v) { return Math.round(v * 100) / 100; }).join(",");
  }

  // ---------- frame display and playback ----------
  function fmt(t) { return t.toFixed(2) + " s"; }
  function showFrame() {
    slider.value = String(state.frame);
    readout.textContent = T ? "frame " + state.frame + " / " + (T - 1) + "  \u00b7  " + fmt(times[state.frame]) +
      " / " + fmt(times[T - 1]) : "no frames";
    body.dataset.frame = String(state.frame);
  }

  // the video is loaded (it can be seeked); it is the clock unless it was not allowed to play
  function videoLoaded() { return !!video && state.videoOk && !state.videoFailed; }
  function videoActive() { return videoLoaded() && !state.videoBlocked; }

  function seekVideo(f) {
    if (!videoLoaded() || !T) return;
    try { video.currentTime = frameMid(f); } catch (err) { /* not seekable yet: seeked again on load */ }
  }

  // Show frame f (a user's choice: the slider, keys, the URL); seeks the video; keeps playing if playing.
  function setFrame(f) {
    state.frame = clamp(Math.round(f) || 0, 0, Math.max(0, T - 1));
    if (T) {
      state.clockTime = frameMid(state.frame);
      state.clockStart = performance.now();
    }
    seekVideo(state.frame);
    showFrame();
    requestDraw();
  }

  function setPlayLabel() {
    playButton.innerHTML = state.playing ? "&#10074;&#10074; Pause" : "&#9654; Play";
  }

  function play() {
    if (!T || state.playing) return;
    if (state.frame >= T - 1) setFrame(0);
    state.playing = true;
    state.videoBlocked = false; // a new try: this press is a user's gesture
    state.clockTime = frameMid(state.frame);
    state.clockStart = performance.now();
    if (videoActive()) startVideo();
    setPlayLabel();
    requestAnimationFrame(tick);
  }

  function pause() {
    if (!state.playing) return;
    state.playing = false;
    if (video && !video.paused) video.pause();
    setPlayLabel();
    seekVideo(state.frame); // the video shows exactly the frame the 3D shows
  }

  // While the video plays it is the clock (the 3D follows video.currentTime); otherwise real time
  // since play() was pressed, times the speed. Either way the shown frame is the last one whose
  // time has come: a slow machine skips frames instead of slowing down.
  function tick(now) {
    if (!state.playing) return;
    var f, done;
    if (videoActive()) {
      f = frameAt(video.currentTime);
      done = video.ended;
    } else {
      // (a frame's timestamp can lie just before the moment play was pressed: never step back)
      var t = state.clockTime + Math.max(0, now - state.clockStart) / 1000 * state.speed;
      f = frameAt(t);
      done = t >= endTime();
    }
    if (done) f = T - 1;
    if (f !== state.frame) {
      state.frame = f;
      showFrame();
      draw();
    }
    if (done) pause(); else requestAnimationFrame(tick);
  }

  function startVideo() {
    video.playbackRate = state.speed;
    var started = video.play();
    if (started && started.catch) {
      started.catch(function () { // not allowed to play (or the source vanished): keep the viewer's own clock
        if (!state.playing) return;
        state.videoBlocked = true;
        state.clockTime = frameMid(state.frame);
        state.clockStart = performance.now();
      });
    }
  }

  // ---------- the source video ----------
  function hideVideo() {
    state.videoFailed = true;
    if (videoPanel) videoPanel.classList.add("hidden");
    body.dataset.video = "failed";
    if (state.playing) { state.clockTime = frameMid(state.frame); state.clockStart = performance.now(); }
    resize();
    requestDraw();
  }
  if (video) {
    video.addEventListener("error", hideVideo);
    video.addEventListener("loadedmetadata", function () {
      state.videoOk = true;
      body.dataset.video = "ok";
      seekVideo(state.frame);
      if (state.playing && !state.videoBlocked) startVideo(); // it was playing on the viewer's clock
    });
    video.addEventListener("pause", function () { // paused from outside (media keys): pause the 3D too
      if (state.playing && !video.ended && !video.seeking && videoActive()) pause();
    });
    video.addEventListener("seeked", function () { body.dataset.videoTime = String(video.currentTime); });
    video.addEventListener("ended", function () {
      if (state.playing) { state.frame = T - 1; showFrame(); draw(); pause(); }
    });
    if (video.error) hideVideo(); // failed before this script ran
    else if (video.readyState >= 1) { state.videoOk = true; body.dataset.video = "ok"; }
  }

  // ---------- controls ----------
  playButton.addEventListener("click", function () { if (state.playing) pause(); else play(); playButton.blur(); });
  slider.max = String(Math.max(0, T - 1));
  slider.addEventListener("input", function () { setFrame(Number(slider.value)); });
  speedSelect.addEventListener("change", function () {
    var now = performance.now();
    state.clockTime = state.clockTime + (now - state.clockStart) / 1000 * state.speed;
    state.clockStart = now;
    state.speed = Number(speedSelect.value) || 1;
    if (video) video.playbackRate = state.speed;
    speedSelect.blur();
  });
  function resetView() {
    state.az = view0.azimuth_deg; state.el = view0.elevation_deg; state.zoom = 1; state.pan = [0, 0, 0];
    requestDraw();
  }
  document.getElementById("reset").addEventListener("click", resetView);

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var onSlider = e.target === slider, onSelect = e.target === speedSelect;
    if (e.key === " " || e.code === "Space") {
      e.preventDefault();
      if (state.playing) pause(); else play();
    } else if ((e.key === "ArrowRight" || e.key === "ArrowLeft") && !onSlider && !onSelect) {
      e.preventDefault();
      pause();
      setFrame(state.frame + (e.key === "ArrowRight" ? 1 : -1));
    } else if ((e.key === "Home" || e.key === "End") && !onSlider) {
      e.preventDefault();
      setFrame(e.key === "Home" ? 0 : T - 1);
    } else if (e.key === "r" || e.key === "R") {
      resetView();
    }
  });

  // orbit (drag), pan (shift- or right-drag), pinch zoom (two pointers)
  var pointers = {};
  var pinchDistance = 0;
  function pointerList() { return Object.keys(pointers).map(function (k) { return pointers[k]; }); }
  function spread() {
    var ps = pointerList();
    return ps.length < 2 ? 0 : Math.hypot(ps[0].x - ps[1].x, ps[0].y - ps[1].y);
  }
  function zoomBy(factor) {
    state.zoom = clamp(state.zoom * factor, 0.05, 20);
    requestDraw();
  }
  canvas.addEventListener("pointerdown", function (e) {
    canvas.setPointerCapture(e.pointerId);
    pointers[e.pointerId] = { x: e.clientX, y: e.clientY, pan: e.button === 2 || e.shiftKey };
    pinchDistance = spread();
    canvas.classList.add("dragging");
    canvas.focus();
  });
  canvas.addEventListener("pointermove", function (e) {
    var p = pointers[e.pointerId];
    if (!p) return;
    var dx = e.clientX - p.x, dy = e.clientY - p.y;
    p.x = e.clientX; p.y = e.clientY;
    if (pointerList().length >= 2) {
      var d = spread();
      if (pinchDistance > 0 && d > 0) zoomBy(pinchDistance / d);
      pinchDistance = d;
      return;
    }
    if (p.pan || e.shiftKey) {
      var perPixel = view0.distance * state.zoom / state.focal; // metres per pixel at the target
      state.pan = add(state.pan, add(scale(cam.right, -dx * perPixel), scale(cam.up, dy * perPixel)));
    } else {
      state.az = state.az - dx * 0.4;
      state.el = clamp(state.el + dy * 0.3, -10, 89);
    }
    requestDraw();
  });
  function release(e) {
    delete pointers[e.pointerId];
    pinchDistance = spread();
    if (!pointerList().length) canvas.classList.remove("dragging");
  }
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);
  canvas.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  canvas.addEventListener("dblclick", resetView);
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    var lines = e.deltaMode === 1 ? 33 : (e.deltaMode === 2 ? 400 : 1);
    zoomBy(Math.exp(clamp(e.deltaY * lines, -300, 300) * 0.0015));
  }, { passive: false });
  window.addEventListener("resize", function () { resize(); draw(); });

  // ---------- header: mode and legend ----------
  document.getElementById("kind").textContent = data.world_kind === "ground"
    ? "3D world: ground estimated (z up, metres, grid " + data.floor.step + " m)"
    : "3D: fixed view, no ground (floor grid at the lowest joint, grid " + data.floor.step + " m)";
  var legend = document.getElementById("legend");
  data.people.forEach(function (p) {
    var chip = document.createElement("span");
    chip.className = "chip";
    chip.innerHTML = '<span class="id"></span><span class="swatch"></span>right <span class="swatch"></span>left';
    chip.children[0].textContent = "ID " + p.id;
    chip.children[0].style.background = p.color;
    chip.children[1].style.background = p.color;
    chip.children[2].style.background = p.tint;
    legend.appendChild(chip);
  });

  // ---------- start: frame, view and playing from the URL (#frame=30&az=-90&el=10&zoom=1.2&play=1) ----------
  var options = {};
  (location.search.slice(1) + "&" + location.hash.slice(1)).split("&").forEach(function (kv) {
    var i = kv.indexOf("=");
    if (i > 0) options[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1));
  });
  var start = 0;
  if (options.frame !== undefined && isFinite(Number(options.frame))) {
    start = Number(options.frame);
  } else {
    search: for (var t = 0; t < T; t++) {
      for (var q = 0; q < data.people.length; q++) if (data.people[q].frames[t]) { start = t; break search; }
    }
  }
  if (isFinite(Number(options.az)) && options.az !== undefined) state.az = Number(options.az);
  if (isFinite(Number(options.el)) && options.el !== undefined) state.el = clamp(Number(options.el), -10, 89);
  if (isFinite(Number(options.zoom)) && Number(options.zoom) > 0) state.zoom = clamp(Number(options.zoom), 0.05, 20);

  resize();
  state.frame = clamp(Math.round(start) || 0, 0, Math.max(0, T - 1));
  seekVideo(state.frame);
  showFrame();
  setPlayLabel();
  draw();
  if (options.play === "1") play();
})();
