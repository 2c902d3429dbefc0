/* reelspace explorer: every movie on one zoomable map, its neighbours, co-rated movies and
 * user recommendations.  Plain JavaScript, no dependencies; WebGL with a Canvas 2D fallback.
 *
 * Data files are scripts that call __reelspace_data(name, payload), so the page also works
 * from file:// (browsers refuse fetch there, not <script src>).  Only the default layout, the
 * genre masks, years and popularity are needed for the first paint; titles follow at once,
 * everything else (ids, neighbour shards, users) when it is first used.
 *
 * Every piece of text from the data goes into the page with textContent, never as HTML.
 */
(function () {
  "use strict";

  var manifest = JSON.parse(document.getElementById("reelspace-manifest").textContent);
  var DIR = manifest.folder;
  var M = manifest.movies;
  var U = manifest.users;
  var FACETS = M.facets;
  var OTHER = M.other;
  var ALL = FACETS.length >= 31 ? -1 : (1 << FACETS.length) - 1;
  var UNKNOWN = 255;
  // 15 named genres and grey for Other: the same colours as the picture (embedder/genres.py).
  var PALETTE = manifest.palette;
  var MIN_SUPPORT = manifest.min_support || 1;
  var REGIONS = manifest.regions || {};
  var GREY = [150, 150, 150];
  var ACCENT = [230, 40, 30];

  var params = new URLSearchParams(location.search);
  var $ = function (id) { return document.getElementById(id); };
  var canvas = $("map");
  var stage = $("stage");
  var statusLine = $("status");

  // ---------------------------------------------------------------- data loading

  var store = Object.create(null);
  var waiting = Object.create(null);
  var requested = Object.create(null);

  window.__reelspace_data = function (name, payload) {
    store[name] = payload;
    if (waiting[name]) {
      waiting[name](payload);
      delete waiting[name];
    }
  };

  function load(name, file) {
    if (name in store) return Promise.resolve(store[name]);
    if (requested[name]) return requested[name];
    var promise = new Promise(function (resolve, reject) {
      waiting[name] = resolve;
      var tag = document.createElement("script");
      tag.src = DIR + file;
      tag.async = true;
      tag.onload = function () {
        tag.remove();
        if (!(name in store)) reject(new Error(file + " did not contain " + name));
      };
      tag.onerror = function () {
        tag.remove();
        delete requested[name];
        reject(new Error("could not load " + DIR + file));
      };
      document.head.appendChild(tag);
    });
    requested[name] = promise;
    return promise;
  }

  function bytes(text) {
    if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
    var raw = atob(text);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function u16(text) {
    var b = bytes(text);
    return new Uint16Array(b.buffer, b.byteOffset, b.byteLength >> 1);
  }

  function layoutFile(what, name) { return "layout-" + what + "-" + name + ".js"; }

  function loadLayout(what, name) {
    var side = state[what];
    if (side.pos[name]) return Promise.resolve(side.pos[name]);
    return load("layout/" + what + "/" + name, layoutFile(what, name)).then(function (payload) {
      side.pos[name] = u16(payload.xy);
      return side.pos[name];
    });
  }

  function loadTitles() {
    if (state.movies.titles) return Promise.resolve(state.movies.titles);
    return load("movies/titles", "movies-titles.js").then(function (text) {
      if (!state.movies.titles) state.movies.titles = text.split("\n");
      return state.movies.titles;
    });
  }

  function loadMovieIds() {
    if (state.movies.index) return Promise.resolve(state.movies.ids);
    return load("movies/ids", "movies-ids.js").then(function (ids) {
      if (!state.movies.index) {
        state.movies.ids = ids;
        state.movies.index = new Map();
        for (var i = 0; i < ids.length; i++) state.movies.index.set(ids[i], i);
      }
      return ids;
    });
  }

  function loadUsers() {
    if (state.users.index) return Promise.resolve(state.users);
    return load("users/ids", "users-ids.js").then(function (payload) {
      var users = state.users;
      if (!users.index) {
        users.ids = payload.ids;
        users.count = payload.count;
        users.facet = bytes(payload.facet);
        users.rare = payload.rare ? bytes(payload.rare) : null;
        prominence(users, users.count.map(function (c) { return Math.log(1 + c); }));
        users.index = new Map();
        for (var i = 0; i < users.ids.length; i++) users.index.set(users.ids[i], i);
      }
      return users;
    });
  }

  function loadRegions(what) {
    var target = state[what];
    if (!REGIONS[what]) return Promise.resolve(null);
    if (target.regions) return Promise.resolve(target.regions);
    return load("regions/" + what, "regions-" + what + ".js").then(function (payload) {
      if (!target.regions) {
        var raw = bytes(payload.member);
        target.regions = {
          names: payload.names, sizes: payload.sizes, titles: payload.titles, centres: payload.centres, colours: payload.colours,
          member: payload.wide ? new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength >> 1) : raw
        };
      }
      return target.regions;
    });
  }

  function regionOf(what, row) {
    var regions = state[what].regions;
    if (!regions) return -1;
    var r = regions.member[row];
    return r < regions.names.length ? r : -1;
  }

  function movieShard(row) {
    var n = Math.floor(row / M.shard_size);
    return load("movies/shard/" + n, "movies/" + n + ".js").then(function (shard) {
      return { shard: shard, i: row - shard.start };
    });
  }

  function userShard(row) {
    var starts = U.shards, n = 0;
    while (n + 1 < starts.length && starts[n + 1] <= row) n++;
    return load("users/shard/" + n, "users/" + n + ".js").then(function (shard) {
      return { shard: shard, i: row - shard.start };
    });
  }

  // ---------------------------------------------------------------- state

  var state = {
    map: "movies",
    layout: manifest.default_layout,
    enabled: ALL,
    selection: null,
    movies: { n: M.count, pos: {}, mask: null, year: null, pop: null, titles: null, folded: null, ids: null, index: null,
              rare: null, weight: null, grow: null, order: null, regions: null },
    users: { n: U.count, pos: {}, facet: null, ids: null, index: null, count: null,
             rare: null, weight: null, grow: null, order: null, regions: null },
    // Points rated fewer than MIN_SUPPORT times are hidden until asked for (?rare=1 shows them).
    showRare: params.get("rare") === "1",
    showLabels: params.get("labels") !== "0",
    colourBy: params.get("colour") === "region" ? "region" : "genre",
    colours: null,
    visible: 0,
    grid: null,
    view: { cx: 0.5, cy: 0.5, k: 1, fit: 1 },
    drawnView: null,
    focusPanel: false,
    marks: []
  };

  function side() { return state[state.map]; }

  /** A point's prominence from its rating count (``values`` on any increasing scale): size, opacity, drawing order. */
  function prominence(target, values) {
    var n = values.length, top = 0, i;
    for (i = 0; i < n; i++) if (values[i] > top) top = values[i];
    target.weight = new Float32Array(n);
    target.grow = new Float32Array(n);
    for (i = 0; i < n; i++) {
      var w = top > 0 ? values[i] / top : 1;
      target.weight[i] = w;
      target.grow[i] = target.rare && target.rare[i] ? 0.6 : 0.65 + 0.85 * w;
    }
    var order = new Uint32Array(n);
    for (i = 0; i < n; i++) order[i] = i;
    target.order = Array.prototype.slice.call(order).sort(function (a, b) { return values[a] - values[b] || a - b; });
  }

  function isRare(row) {
    var rare = side().rare;
    return !!(rare && rare[row]);
  }
  function positions() { return side().pos[state.layout]; }

  // ---------------------------------------------------------------- renderers

  function makeRenderer(element) {
    if (params.get("renderer") !== "canvas") {
      try {
        var gl = glRenderer(element);
        if (gl) return gl;
      } catch (error) {
        /* fall through to Canvas 2D */
      }
    }
    return canvasRenderer(element);
  }

  var POINT_VS =
    "attribute vec2 a_pos; attribute vec4 a_col; attribute float a_grow; uniform vec2 u_center; uniform vec2 u_scale;" +
    "uniform float u_size; varying vec4 v_col;" +
    "void main() { v_col = a_col;" +
    "  if (a_col.a == 0.0) { gl_Position = vec4(2.0, 2.0, 2.0, 1.0); gl_PointSize = 0.0; return; }" +
    "  gl_Position = vec4((a_pos - u_center) * u_scale, 0.0, 1.0); gl_PointSize = max(1.0, u_size * a_grow); }";
  var POINT_FS =
    "precision mediump float; varying vec4 v_col;" +
    "void main() { vec2 d = gl_PointCoord - 0.5; if (dot(d, d) > 0.25) discard; gl_FragColor = v_col; }";
  var MARK_VS =
    "attribute vec2 a_pos; attribute vec4 a_col; attribute float a_size; uniform vec2 u_center;" +
    "uniform vec2 u_scale; varying vec4 v_col; varying float v_size;" +
    "void main() { v_col = a_col; v_size = a_size;" +
    "  gl_Position = vec4((a_pos - u_center) * u_scale, 0.0, 1.0); gl_PointSize = a_size; }";
  var MARK_FS =
    "precision mediump float; varying vec4 v_col; varying float v_size; uniform vec4 u_ink;" +
    "void main() { float r = length(gl_PointCoord - 0.5) * 2.0; if (r > 1.0) discard;" +
    "  gl_FragColor = r > 1.0 - 3.0 / v_size ? u_ink : v_col; }";

  function glRenderer(element) {
    var options = { antialias: false, alpha: false, preserveDrawingBuffer: true };
    var gl = element.getContext("webgl", options) || element.getContext("experimental-webgl", options);
    if (!gl) return null;
    function program(vs, fs) {
      var p = gl.createProgram();
      [[gl.VERTEX_SHADER, vs], [gl.FRAGMENT_SHADER, fs]].forEach(function (pair) {
        var s = gl.createShader(pair[0]);
        gl.shaderSource(s, pair[1]);
        gl.compileShader(s);
        if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
        gl.attachShader(p, s);
      });
      gl.linkProgram(p);
      if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(p));
      return p;
    }
    var points = program(POINT_VS, POINT_FS);
    var marks = program(MARK_VS, MARK_FS);
    var posBuffer = gl.createBuffer(), colBuffer = gl.createBuffer(), growBuffer = gl.createBuffer();
    var markPos = gl.createBuffer(), markCol = gl.createBuffer(), markSize = gl.createBuffer();
    var count = 0, markCount = 0, drawOrder = null;
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);

    function attribute(p, name, buffer, size, type, normalised) {
      var at = gl.getAttribLocation(p, name);
      gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
      gl.enableVertexAttribArray(at);
      gl.vertexAttribPointer(at, size, type, normalised, 0, 0);
      return at;
    }
    function uniforms(p, view, width, height) {
      gl.uniform2f(gl.getUniformLocation(p, "u_center"), view.cx, view.cy);
      gl.uniform2f(gl.getUniformLocation(p, "u_scale"), 2 * view.k / width, 2 * view.k / height);
    }
    // Points are uploaded in drawing order (least rated first), so the well-known ones are drawn on top.
    return {
      kind: "webgl",
      setPoints: function (pos, order, grow) {
        gl.bindBuffer(gl.ARRAY_BUFFER, posBuffer);
        gl.bufferData(gl.ARRAY_BUFFER, permute(pos, order, 2, Uint16Array), gl.STATIC_DRAW);
        gl.bindBuffer(gl.ARRAY_BUFFER, growBuffer);
        gl.bufferData(gl.ARRAY_BUFFER, permute(grow, order, 1, Float32Array), gl.STATIC_DRAW);
        count = pos.length / 2;
        drawOrder = order;
      },
      setColours: function (rgba) {
        gl.bindBuffer(gl.ARRAY_BUFFER, colBuffer);
        gl.bufferData(gl.ARRAY_BUFFER, permute(rgba, drawOrder, 4, Uint8Array), gl.DYNAMIC_DRAW);
      },
      setMarks: function (xy, rgba, sizes) {
        gl.bindBuffer(gl.ARRAY_BUFFER, markPos);
        gl.bufferData(gl.ARRAY_BUFFER, xy, gl.DYNAMIC_DRAW);
        gl.bindBuffer(gl.ARRAY_BUFFER, markCol);
        gl.bufferData(gl.ARRAY_BUFFER, rgba, gl.DYNAMIC_DRAW);
        gl.bindBuffer(gl.ARRAY_BUFFER, markSize);
        gl.bufferData(gl.ARRAY_BUFFER, sizes, gl.DYNAMIC_DRAW);
        markCount = sizes.length;
      },
      draw: function (view, size, background, ink, ratio) {
        var width = element.width / ratio, height = element.height / ratio;
        gl.viewport(0, 0, element.width, element.height);
        gl.clearColor(background[0] / 255, background[1] / 255, background[2] / 255, 1);
        gl.clear(gl.COLOR_BUFFER_BIT);
        if (count) {
          gl.useProgram(points);
          var a = attribute(points, "a_pos", posBuffer, 2, gl.UNSIGNED_SHORT, true);
          var b = attribute(points, "a_col", colBuffer, 4, gl.UNSIGNED_BYTE, true);
          var g = attribute(points, "a_grow", growBuffer, 1, gl.FLOAT, false);
          uniforms(points, view, width, height);
          gl.uniform1f(gl.getUniformLocation(points, "u_size"), size * ratio);
          gl.drawArrays(gl.POINTS, 0, count);
          gl.disableVertexAttribArray(a);
          gl.disableVertexAttribArray(b);
          gl.disableVertexAttribArray(g);
        }
        if (markCount) {
          gl.useProgram(marks);
          var c = attribute(marks, "a_pos", markPos, 2, gl.FLOAT, false);
          var d = attribute(marks, "a_col", markCol, 4, gl.UNSIGNED_BYTE, true);
          var e = attribute(marks, "a_size", markSize, 1, gl.FLOAT, false);
          uniforms(marks, view, width, height);
          gl.uniform4f(gl.getUniformLocation(marks, "u_ink"), ink[0] / 255, ink[1] / 255, ink[2] / 255, 1);
          gl.drawArrays(gl.POINTS, 0, markCount);
          [c, d, e].forEach(function (at) { gl.disableVertexAttribArray(at); });
        }
        return count;
      }
    };
  }

  /** ``values`` (``width`` numbers per point) rearranged into drawing ``order``. */
  function permute(values, order, width, Type) {
    if (!order) return values;
    var out = new Type(values.length);
    for (var j = 0; j < order.length; j++) {
      var i = order[j];
      for (var c = 0; c < width; c++) out[width * j + c] = values[width * i + c];
    }
    return out;
  }

  function canvasRenderer(element) {
    var ctx = element.getContext("2d");
    var pos = null, grow = null, order = null, buckets = [], mark = { xy: null, rgba: null, sizes: null };
    return {
      kind: "canvas",
      setPoints: function (p, o, g) { pos = p; order = o; grow = g; },
      setColours: function (rgba) {
        // Group points by colour once, so a frame is one path per colour (in drawing order).
        var byKey = new Map();
        for (var j = 0; j < rgba.length / 4; j++) {
          var i = order ? order[j] : j;
          var a = rgba[4 * i + 3];
          if (!a) continue;
          var key = (rgba[4 * i] << 24 | rgba[4 * i + 1] << 16 | rgba[4 * i + 2] << 8 | a) >>> 0;
          var list = byKey.get(key);
          if (!list) byKey.set(key, list = []);
          list.push(i);
        }
        buckets = [];
        byKey.forEach(function (list, key) {
          buckets.push({
            style: "rgba(" + (key >>> 24) + "," + (key >>> 16 & 255) + "," + (key >>> 8 & 255) + "," + ((key & 255) / 255).toFixed(3) + ")",
            rows: Uint32Array.from(list)
          });
        });
      },
      setMarks: function (xy, rgba, sizes) { mark = { xy: xy, rgba: rgba, sizes: sizes }; },
      draw: function (view, size, background, ink, ratio) {
        var width = element.width / ratio, height = element.height / ratio;
        ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
        ctx.fillStyle = "rgb(" + background.join(",") + ")";
        ctx.fillRect(0, 0, width, height);
        if (!pos) return 0;
        var s = 1 / 65535, drawn = 0;
        var ox = width / 2 - view.cx * view.k, oy = height / 2 + view.cy * view.k;
        buckets.forEach(function (bucket) {
          ctx.fillStyle = bucket.style;
          ctx.beginPath();
          var rows = bucket.rows;
          for (var j = 0; j < rows.length; j++) {
            var i = rows[j], d = grow ? Math.max(1, size * grow[i]) : size;
            var x = ox + pos[2 * i] * s * view.k, y = oy - pos[2 * i + 1] * s * view.k;
            if (x < -d || y < -d || x > width + d || y > height + d) continue;
            ctx.rect(x - d / 2, y - d / 2, d, d);
          }
          ctx.fill();
          drawn += rows.length;
        });
        if (mark.sizes) {
          ctx.strokeStyle = "rgb(" + ink.join(",") + ")";
          ctx.lineWidth = 1.5;
          for (var m = 0; m < mark.sizes.length; m++) {
            var mx = ox + mark.xy[2 * m] * view.k, my = oy - mark.xy[2 * m + 1] * view.k;
            ctx.beginPath();
            ctx.arc(mx, my, mark.sizes[m] / 2, 0, 2 * Math.PI);
            ctx.fillStyle = "rgba(" + mark.rgba[4 * m] + "," + mark.rgba[4 * m + 1] + "," + mark.rgba[4 * m + 2] + "," + (mark.rgba[4 * m + 3] / 255) + ")";
            ctx.fill();
            ctx.stroke();
          }
        }
        return drawn;
      }
    };
  }

  var renderer = makeRenderer(canvas);
  canvas.dataset.renderer = renderer.kind;

  // ---------------------------------------------------------------- colours, marks, drawing

  function facetOf(row) {
    if (!state.showRare && isRare(row)) return -1;
    if (state.map === "users") {
      var f = state.users.facet[row];
      return f === UNKNOWN || (state.enabled & (1 << f)) ? f : -1;
    }
    var m = state.movies.mask[row] & state.enabled;
    if (!m) return -1;
    // A movie takes the colour of its rarest enabled genre (the legend is sorted by frequency).
    var named = OTHER >= 0 ? m & ~(1 << OTHER) : m;
    return named ? 31 - Math.clz32(named) : OTHER;
  }

  /** A point's colour: its genre's, or with "Colour: Region" its region's (grey between regions). */
  function colourOf(row, facet) {
    var regions = side().regions;
    if (state.colourBy === "region" && regions) {
      var r = regions.member[row];
      return r < regions.colours.length ? regions.colours[r] : GREY;
    }
    return rgbOf(facet);
  }

  function rgbOf(facet) {
    return facet === UNKNOWN || facet === OTHER || facet < 0 ? GREY : PALETTE[facet % PALETTE.length];
  }

  function recolour() {
    var n = side().n, rgba = new Uint8Array(4 * n), visible = 0, weight = side().weight;
    var region = state.selection && state.selection.kind === "region" && state.selection.map === state.map ? state.selection : null;
    var members = region ? side().regions.member : null;
    var alpha = state.selection && !region ? 70 : (n > 20000 ? 190 : 235);
    for (var i = 0; i < n; i++) {
      var f = facetOf(i);
      if (f === -1) continue;
      var c = colourOf(i, f);
      rgba[4 * i] = c[0];
      rgba[4 * i + 1] = c[1];
      rgba[4 * i + 2] = c[2];
      // Well-rated points stronger, barely-rated ones faint; outside a selected region, everything faint.
      var a = alpha * (isRare(i) ? 0.35 : 0.45 + 0.55 * (weight ? weight[i] : 1));
      if (members && members[i] !== region.index) a = Math.min(a, 40);
      rgba[4 * i + 3] = Math.max(1, Math.round(a));
      visible++;
    }
    state.colours = rgba;
    state.visible = visible;
    renderer.setColours(rgba);
    canvas.dataset.points = String(visible);
    updateLegendCounts();
    schedule();
  }

  function setMarks() {
    var list = state.marks.filter(function (m) { return m.map === state.map; });
    var pos = positions(), xy = new Float32Array(2 * list.length), rgba = new Uint8Array(4 * list.length);
    var sizes = new Float32Array(list.length), base = pointSize();
    for (var j = 0; j < list.length; j++) {
      var m = list[j];
      xy[2 * j] = pos[2 * m.row] / 65535;
      xy[2 * j + 1] = pos[2 * m.row + 1] / 65535;
      var c = m.colour || rgbOf(state.map === "users" ? state.users.facet[m.row] : facetOf(m.row));
      rgba.set([c[0], c[1], c[2], 255], 4 * j);
      sizes[j] = Math.max(m.size, base + 3) * ratio();
    }
    renderer.setMarks(xy, rgba, sizes);
    canvas.dataset.marks = String(list.length);
  }

  function ratio() { return Math.min(2, window.devicePixelRatio || 1); }

  function pointSize() {
    var v = state.view, area = stage.clientWidth * stage.clientHeight;
    var base = Math.max(1.6, Math.min(7, 0.5 * Math.sqrt(area / Math.max(1, side().n))));
    return base * Math.min(3, Math.sqrt(Math.max(1, v.k / v.fit)));
  }

  function cssColour(name, fallback) {
    var text = getComputedStyle(document.body).getPropertyValue(name).trim();
    var match = /^#([0-9a-f]{6})$/i.exec(text);
    if (!match) return fallback;
    var value = parseInt(match[1], 16);
    return [value >> 16, value >> 8 & 255, value & 255];
  }

  var frame = 0, settle = 0;
  function schedule() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function draw() {
    frame = 0;
    clearTimeout(settle);
    if (!positions()) return;
    if (state.marks.length) setMarks();  // their size follows the zoom
    var drawn = renderer.draw(state.view, pointSize(), cssColour("--map-bg", [247, 246, 242]), cssColour("--fg", [29, 29, 31]), ratio());
    state.drawnView = { cx: state.view.cx, cy: state.view.cy, k: state.view.k };
    canvas.style.transform = "";
    canvas.dataset.drawn = String(drawn);
    placeLabels();
  }

  /* While a gesture goes on, move and scale the picture already drawn (the compositor does
   * that for free) and draw every point again only once the gesture pauses: smooth at any
   * number of points, even where WebGL runs in software.  The canvas overscans the stage
   * by 20% on each side, so a pan rarely reveals an empty edge before the redraw. */
  function interact() {
    var d = state.drawnView, v = state.view;
    if (!d) { schedule(); return; }
    var s = v.k / d.k, tx = (d.cx - v.cx) * v.k, ty = (v.cy - d.cy) * v.k;
    canvas.style.transform = "translate(" + tx.toFixed(2) + "px," + ty.toFixed(2) + "px) scale(" + s.toFixed(5) + ")";
    labelLayer.style.transform = canvas.style.transform;  // the names move with the picture until the redraw
    clearTimeout(settle);
    settle = setTimeout(schedule, 140);
  }

  function resize() {
    var r = ratio(), width = Math.max(1, Math.round(canvas.clientWidth * r)), height = Math.max(1, Math.round(canvas.clientHeight * r));
    if (canvas.width !== width || canvas.height !== height) {
      var oldFit = state.view.fit;
      canvas.width = width;
      canvas.height = height;
      state.view.fit = fitScale();
      state.view.k *= state.view.fit / oldFit;
      if (state.marks.length) setMarks();
    }
    schedule();
  }

  function fitScale() { return Math.max(1, 0.92 * Math.min(stage.clientWidth, stage.clientHeight)); }

  function resetView() {
    state.view.fit = fitScale();
    state.view.k = state.view.fit;
    state.view.cx = 0.5;
    state.view.cy = 0.5;
    schedule();
  }

  // ---------------------------------------------------------------- picking (a uniform grid)

  function buildGrid() {
    var pos = positions(), n = side().n;
    var g = Math.max(1, Math.min(1024, Math.round(Math.sqrt(n / 3))));
    var cell = new Uint32Array(n), start = new Uint32Array(g * g + 1);
    for (var i = 0; i < n; i++) {
      var cx = Math.min(g - 1, (pos[2 * i] * g / 65536) | 0), cy = Math.min(g - 1, (pos[2 * i + 1] * g / 65536) | 0);
      cell[i] = cy * g + cx;
      start[cell[i] + 1]++;
    }
    for (var c = 0; c < g * g; c++) start[c + 1] += start[c];
    var fill = start.slice(0, g * g), items = new Uint32Array(n);
    for (var j = 0; j < n; j++) items[fill[cell[j]]++] = j;
    state.grid = { g: g, start: start, items: items, map: state.map, layout: state.layout };
  }

  function toData(clientX, clientY) {
    var box = stage.getBoundingClientRect(), v = state.view;
    return {
      x: v.cx + (clientX - box.left - box.width / 2) / v.k,
      y: v.cy - (clientY - box.top - box.height / 2) / v.k
    };
  }

  function pick(clientX, clientY) {
    var pos = positions();
    if (!pos || !state.colours) return -1;
    var grid = state.grid;
    if (!grid || grid.map !== state.map || grid.layout !== state.layout) { buildGrid(); grid = state.grid; }
    var p = toData(clientX, clientY), radius = Math.max(6, pointSize()) / state.view.k;
    var g = grid.g, best = -1, bestD = radius * radius;
    var x0 = Math.max(0, Math.floor((p.x - radius) * g)), x1 = Math.min(g - 1, Math.floor((p.x + radius) * g));
    var y0 = Math.max(0, Math.floor((p.y - radius) * g)), y1 = Math.min(g - 1, Math.floor((p.y + radius) * g));
    for (var cy = y0; cy <= y1; cy++) {
      for (var cx = x0; cx <= x1; cx++) {
        var c = cy * g + cx;
        for (var j = grid.start[c]; j < grid.start[c + 1]; j++) {
          var i = grid.items[j];
          if (!state.colours[4 * i + 3]) continue;
          var dx = pos[2 * i] / 65535 - p.x, dy = pos[2 * i + 1] / 65535 - p.y, d = dx * dx + dy * dy;
          if (d < bestD || (d === bestD && i < best)) { bestD = d; best = i; }
        }
      }
    }
    return best;
  }

  /** Client coordinates of a point of the current map (for tests and for centring). */
  function screenOf(row) {
    var pos = positions(), box = stage.getBoundingClientRect(), v = state.view;
    return {
      x: box.left + box.width / 2 + (pos[2 * row] / 65535 - v.cx) * v.k,
      y: box.top + box.height / 2 - (pos[2 * row + 1] / 65535 - v.cy) * v.k
    };
  }

  // ---------------------------------------------------------------- region names on the map

  /* Each named region of the map gets a button at the median of its members.  After every
   * redraw the names are placed biggest region first; a name that would overlap one already
   * placed, or falls off the stage, is left out -- so the overview shows the big regions and
   * zooming in makes room for the smaller ones. */
  var labelLayer = document.createElement("div");
  labelLayer.id = "labels";
  labelLayer.className = "labels";
  stage.insertBefore(labelLayer, $("tip"));
  var labelNodes = { movies: null, users: null };

  function labelButtons(what) {
    var regions = state[what].regions;
    if (!labelNodes[what] && regions) {
      var ranked = regions.sizes.slice().sort(function (a, b) { return b - a; });
      var bigFrom = ranked[Math.min(ranked.length - 1, Math.max(0, Math.floor(ranked.length / 4)))];
      labelNodes[what] = regions.names.map(function (name, r) {
        var button = el("button", {
          type: "button", className: "region-label" + (regions.sizes[r] >= bigFrom ? " big" : ""),
          "data-region": String(r), text: name,
          title: name + " · " + number(regions.sizes[r]) + (what === "movies" ? " movies" : " users") +
            (regions.titles[r].length ? " · " + regions.titles[r].join(" · ") : "")
        });
        button.addEventListener("click", function () { state.focusPanel = true; chooseRegion(what, r); });
        return button;
      });
    }
    return labelNodes[what];
  }

  function placeLabels() {
    labelLayer.style.transform = "";
    labelLayer.textContent = "";
    labelLayer.dataset.shown = "0";
    var regions = side().regions;
    if (!state.showLabels || !regions) return;
    var centres = regions.centres[state.layout];
    if (!centres) return;
    var nodes = labelButtons(state.map), width = stage.clientWidth, height = stage.clientHeight, v = state.view;
    var order = regions.sizes.map(function (s, r) { return r; });
    order.sort(function (a, b) { return regions.sizes[b] - regions.sizes[a] || a - b; });
    // The legend and the side panel cover the map: no name goes under them.
    var origin = stage.getBoundingClientRect(), placed = [];
    ["legend", "panel"].forEach(function (id) {
      var node = $(id);
      if (!node || node.hidden) return;
      var b = node.getBoundingClientRect();
      placed.push([b.left - origin.left, b.top - origin.top, b.right - origin.left, b.bottom - origin.top]);
    });
    var obstacles = placed.length;
    order.forEach(function (r) {
      var x = width / 2 + (centres[r][0] - v.cx) * v.k, y = height / 2 - (centres[r][1] - v.cy) * v.k;
      if (x < 0 || y < 0 || x > width || y > height) return;
      var node = nodes[r];
      labelLayer.appendChild(node);
      var w = node.offsetWidth, h = node.offsetHeight;
      var box = [x - w / 2, y - h / 2, x + w / 2, y + h / 2];
      var clash = box[0] < 2 || box[1] < 2 || box[2] > width - 2 || box[3] > height - 2 || placed.some(function (other) {
        return !(box[2] + 4 <= other[0] || other[2] + 4 <= box[0] || box[3] + 2 <= other[1] || other[3] + 2 <= box[1]);
      });
      if (clash) { labelLayer.removeChild(node); return; }
      node.style.left = box[0].toFixed(1) + "px";
      node.style.top = box[1].toFixed(1) + "px";
      node.setAttribute("aria-pressed", state.selection && state.selection.kind === "region" &&
        state.selection.map === state.map && state.selection.index === r ? "true" : "false");
      placed.push(box);
    });
    labelLayer.dataset.shown = String(placed.length - obstacles);
  }

  // ---------------------------------------------------------------- text helpers

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      if (key === "text") node.textContent = attributes[key];
      else if (key === "className") node.className = attributes[key];
      else node.setAttribute(key, attributes[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child); });
    return node;
  }

  function yearOf(row) {
    var y = state.movies.year[row];
    return y === UNKNOWN ? "" : String(M.year_base + y);
  }

  function titleOf(row) {
    var titles = state.movies.titles;
    var title = titles ? titles[row] : "movie " + (row + 1);
    var year = yearOf(row);
    return year ? title + " (" + year + ")" : title;
  }

  function facetNames(row) {
    var names = [], m = state.movies.mask[row];
    for (var f = 0; f < FACETS.length; f++) if (m & (1 << f)) names.push(FACETS[f].name);
    return names.join(" · ");
  }

  function number(n) { return Number(n).toLocaleString("en"); }

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function movieHref(row) { return "#movie=" + encodeURIComponent(state.movies.ids[row]); }

  function movieLink(row, note) {
    var link = el("a", { href: movieHref(row), text: titleOf(row) });
    link.addEventListener("click", function () { state.focusPanel = true; });
    return el("li", {}, [link, note ? el("span", { className: "note", text: note }) : null]);
  }

  // ---------------------------------------------------------------- tooltip

  var tip = $("tip");

  function showTip(row, clientX, clientY) {
    if (row < 0) { tip.hidden = true; return; }
    tip.textContent = "";
    if (state.map === "movies") {
      tip.appendChild(el("strong", { text: state.movies.titles ? titleOf(row) : "Loading titles…" }));
      tip.appendChild(el("span", { text: facetNames(row) + (isRare(row) ? " · rated fewer than " + MIN_SUPPORT + " times" : "") }));
    } else {
      var users = state.users;
      tip.appendChild(el("strong", { text: users.ids ? "User " + users.ids[row] : "User" }));
      var f = users.facet ? users.facet[row] : UNKNOWN;
      tip.appendChild(el("span", {
        text: (users.count ? number(users.count[row]) + " rated on the map" : "") +
          (f !== UNKNOWN && FACETS[f] ? " · mostly " + FACETS[f].name : "")
      }));
    }
    tip.hidden = false;
    var stage = $("stage").getBoundingClientRect();
    var x = clientX - stage.left + 14, y = clientY - stage.top + 14;
    if (x + tip.offsetWidth > stage.width - 4) x = Math.max(4, clientX - stage.left - tip.offsetWidth - 10);
    if (y + tip.offsetHeight > stage.height - 4) y = Math.max(4, clientY - stage.top - tip.offsetHeight - 10);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }

  // ---------------------------------------------------------------- pan, zoom, click

  var pointers = new Map(), gesture = null, downAt = null;

  function zoomAt(clientX, clientY, factor) {
    var v = state.view, before = toData(clientX, clientY);
    v.k = Math.max(v.fit * 0.5, Math.min(v.fit * 100, v.k * factor));
    var after = toData(clientX, clientY);
    v.cx += before.x - after.x;
    v.cy += before.y - after.y;
    interact();
  }

  canvas.addEventListener("pointerdown", function (event) {
    canvas.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    downAt = pointers.size === 1 ? { x: event.clientX, y: event.clientY, moved: false } : null;
    gesture = null;
  });

  canvas.addEventListener("pointermove", function (event) {
    var last = pointers.get(event.pointerId);
    if (!last) {
      if (event.pointerType === "mouse") showTip(pick(event.clientX, event.clientY), event.clientX, event.clientY);
      return;
    }
    var v = state.view;
    if (pointers.size === 1) {
      v.cx -= (event.clientX - last.x) / v.k;
      v.cy += (event.clientY - last.y) / v.k;
      if (downAt && Math.hypot(event.clientX - downAt.x, event.clientY - downAt.y) > 4) downAt.moved = true;
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      tip.hidden = true;
      interact();
    } else if (pointers.size === 2) {
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      var both = Array.from(pointers.values());
      var distance = Math.hypot(both[0].x - both[1].x, both[0].y - both[1].y);
      var mid = { x: (both[0].x + both[1].x) / 2, y: (both[0].y + both[1].y) / 2 };
      if (gesture) {
        zoomAt(mid.x, mid.y, distance / Math.max(1, gesture.distance));
        v.cx -= (mid.x - gesture.mid.x) / v.k;
        v.cy += (mid.y - gesture.mid.y) / v.k;
        interact();
      }
      gesture = { distance: distance, mid: mid };
    }
  });

  function release(event) {
    var wasClick = downAt && !downAt.moved && pointers.size === 1 && event.type === "pointerup";
    pointers.delete(event.pointerId);
    if (pointers.size < 2) gesture = null;
    if (wasClick) {
      var row = pick(event.clientX, event.clientY);
      if (row >= 0) choose(state.map === "movies" ? "movie" : "user", row);
    }
    downAt = null;
  }
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);
  canvas.addEventListener("pointerleave", function () { tip.hidden = true; });

  canvas.addEventListener("wheel", function (event) {
    event.preventDefault();
    var delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
    zoomAt(event.clientX, event.clientY, Math.exp(-delta * 0.0015));
  }, { passive: false });

  canvas.addEventListener("dblclick", function (event) { zoomAt(event.clientX, event.clientY, 2); });

  canvas.addEventListener("keydown", function (event) {
    var v = state.view, step = 0.1 * Math.min(stage.clientWidth, stage.clientHeight) / v.k;
    var box = stage.getBoundingClientRect(), cx = box.left + box.width / 2, cy = box.top + box.height / 2;
    var handled = true;
    switch (event.key) {
      case "ArrowLeft": v.cx -= step; break;
      case "ArrowRight": v.cx += step; break;
      case "ArrowUp": v.cy += step; break;
      case "ArrowDown": v.cy -= step; break;
      case "+": case "=": zoomAt(cx, cy, 1.5); break;
      case "-": case "_": zoomAt(cx, cy, 1 / 1.5); break;
      case "0": resetView(); break;
      case "Escape": clearHash(); break;
      default: handled = false;
    }
    if (handled) { event.preventDefault(); interact(); }
  });

  // ---------------------------------------------------------------- selection and the URL

  /** Select through the URL, so that the address always follows the selection. */
  function choose(kind, row) {
    var ready = kind === "movie" ? loadMovieIds() : loadUsers();
    ready.then(function () {
      var id = kind === "movie" ? state.movies.ids[row] : state.users.ids[row];
      var hash = "#" + kind + "=" + encodeURIComponent(id);
      if (location.hash === hash) fromHash();
      else location.hash = hash;
    }).catch(fail);
  }

  function chooseRegion(what, index) {
    var hash = (what === "movies" ? "#region=" : "#user-region=") + index;
    if (location.hash === hash) fromHash();
    else location.hash = hash;
  }

  function clearHash() {
    if (location.hash) history.pushState(null, "", location.pathname + location.search);
    fromHash();
  }

  function fromHash() {
    var query = new URLSearchParams(location.hash.replace(/^#/, ""));
    var movie = query.get("movie"), user = query.get("user");
    if (movie !== null) return selectMovie(movie);
    if (user !== null) return selectUser(user);
    if (query.get("region") !== null) return selectRegion("movies", Number(query.get("region")));
    if (query.get("user-region") !== null) return selectRegion("users", Number(query.get("user-region")));
    state.selection = null;
    state.marks = [];
    $("panel").hidden = true;
    setMarks();
    recolour();
    placeLabels();
    return Promise.resolve();
  }

  function centreOn(row) {
    var pos = positions(), v = state.view;
    var x = pos[2 * row] / 65535, y = pos[2 * row + 1] / 65535;
    var halfW = stage.clientWidth / 2 / v.k, halfH = stage.clientHeight / 2 / v.k;
    if (Math.abs(x - v.cx) > halfW * 0.7 || Math.abs(y - v.cy) > halfH * 0.7) {
      v.cx = x;
      v.cy = y;
    }
  }

  function selectRegion(what, index) {
    var ready = [loadRegions(what), loadTitles(), loadMovieIds()];
    if (what === "users") ready.push(loadUsers());
    return Promise.all(ready).then(function () {
      var regions = state[what].regions;
      if (!regions || !(index >= 0 && index < regions.names.length)) {
        return notFound("This map has no region number " + index + ".");
      }
      return (state.map === what ? Promise.resolve() : switchMap(what)).then(function () {
        state.selection = { kind: "region", map: what, index: index };
        state.marks = [];
        var centre = regions.centres[state.layout];
        if (centre) { state.view.cx = centre[index][0]; state.view.cy = centre[index][1]; }
        setMarks();
        recolour();
        renderRegion(what, index);
        schedule();
      });
    }).catch(fail);
  }

  function selectMovie(id) {
    return Promise.all([loadMovieIds(), loadTitles(), loadRegions("movies")]).then(function () {
      var row = state.movies.index.get(id);
      if (row === undefined) return notFound("No movie with id " + id + " is on this map.");
      return movieShard(row).then(function (found) {
        var s = found.shard, i = found.i;
        state.selection = { kind: "movie", row: row };
        state.marks = [{ map: "movies", row: row, size: 22, colour: ACCENT }];
        s.similar[i].forEach(function (j) { state.marks.push({ map: "movies", row: j, size: 12 }); });
        if (state.map === "movies") centreOn(row);
        setMarks();
        recolour();
        renderMovie(row, s, i);
      });
    }).catch(fail);
  }

  function selectUser(id) {
    return Promise.all([loadUsers(), loadMovieIds(), loadTitles(), loadRegions("users")]).then(function () {
      var row = state.users.index.get(id);
      if (row === undefined) return notFound("No user with id " + id + " is on this map.");
      return userShard(row).then(function (found) {
        var s = found.shard, i = found.i;
        state.selection = { kind: "user", row: row };
        state.marks = [{ map: "users", row: row, size: 22, colour: ACCENT }];
        // Rated movies keep their genre colour, at full strength and outlined; recommendations in red.
        s.rated[i].forEach(function (j) { state.marks.push({ map: "movies", row: j, size: 0 }); });
        s.recs[i].forEach(function (j) { state.marks.push({ map: "movies", row: j, size: 16, colour: ACCENT }); });
        if (state.map === "users") centreOn(row);
        setMarks();
        recolour();
        renderUser(row, s, i);
        $("user-id").value = id;
      });
    }).catch(fail);
  }

  function notFound(message) {
    state.selection = null;
    state.marks = [];
    setMarks();
    recolour();
    var body = $("panel-body");
    body.textContent = "";
    body.appendChild(el("h2", { id: "panel-title", tabindex: "-1", text: "Not found" }));
    body.appendChild(el("p", { text: message }));
    openPanel();
  }

  function openPanel() {
    $("panel").hidden = false;
    placeLabels();
    if (state.focusPanel) {
      state.focusPanel = false;
      $("panel-title").focus({ preventScroll: true });
    }
  }

  function regionLink(what, row) {
    var r = regionOf(what, row);
    if (r < 0) return null;
    var link = el("a", { href: (what === "movies" ? "#region=" : "#user-region=") + r, text: state[what].regions.names[r] });
    link.addEventListener("click", function () { state.focusPanel = true; });
    return el("p", { className: "region-line" }, ["On the map in ", link]);
  }

  function renderMovie(row, s, i) {
    var body = $("panel-body"), rare = !!(state.movies.rare && state.movies.rare[row]);
    body.textContent = "";
    body.appendChild(el("h2", { id: "panel-title", tabindex: "-1", text: titleOf(row) }));
    var facts = (s.genres[i] || "no genres listed") + " · rated " + number(s.count[i]) + " times";
    if (s.mean && s.mean[i] !== null && s.mean[i] !== undefined) facts += ", mean " + s.mean[i];
    body.appendChild(el("p", { className: "meta", text: facts }));
    if (rare) {
      body.appendChild(el("p", { className: "rare-note", id: "rare-note", text:
        "Rated fewer than " + MIN_SUPPORT + " times: too few ratings for a reliable vector. It is kept out of other " +
        "movies' similar lists and of the map's regions, and placed on the map beside the well-rated movies nearest to it" +
        (state.showRare ? "." : " (shown faint; the legend's “barely rated” button shows all of them).") }));
    } else if (REGIONS.movies) {
      body.appendChild(regionLink("movies", row) || el("p", { className: "region-line", text: "Between the map's named regions." }));
    }
    if (M.pages && s.page) {
      body.appendChild(el("p", {}, [el("a", { href: M.pages + s.page[i], text: "Its own page (no JavaScript)" })]));
    }
    body.appendChild(el("h3", { text: rare ? "Nearest well-rated movies" : "Similar movies" }));
    var similar = el("ol", { className: "list", id: "similar" });
    s.similar[i].forEach(function (j, n) { similar.appendChild(movieLink(j, s.scores[i][n].toFixed(2))); });
    body.appendChild(similar);
    body.appendChild(el("h3", { text: "People who rated this also rated" }));
    if (M.corated_window) {
      body.appendChild(el("p", { className: "hint", text: "Counting the people who rated both within " + number(M.corated_window) +
        " ratings of each other" + (M.history_ordered === false ? " (in a random order: the log has no order)." : ".") }));
    } else if (M.corated_history) {
      body.appendChild(el("p", { className: "hint", text: "Counting each person's " + (M.history_ordered === false ? "" : "latest ") + number(M.corated_history) +
        " ratings" + (M.history_ordered === false ? " (a random part of them: the log has no order)." : ".") }));
    }
    var corated = el("ol", { className: "list", id: "corated" });
    s.corated[i].forEach(function (j, n) { corated.appendChild(movieLink(j, number(s.corated_n[i][n]) + " people")); });
    if (!s.corated[i].length) corated.appendChild(el("li", { text: "Nobody else rated this movie." }));
    body.appendChild(corated);
    openPanel();
  }

  function renderUser(row, s, i) {
    var body = $("panel-body"), users = state.users;
    body.textContent = "";
    body.appendChild(el("h2", { id: "panel-title", tabindex: "-1", text: "User " + users.ids[row] }));
    var rated = s.rated[i].length, total = users.count ? Math.max(users.count[row], rated) : rated;
    body.appendChild(el("p", { className: "meta", text: number(total) + " rated movies" + (total > rated ? "; the " +
      (M.history_ordered === false ? "" : "latest ") + number(rated) + " kept for the explorer are" : ",") + " outlined on the movie map" }));
    if (users.rare && users.rare[row]) {
      body.appendChild(el("p", { className: "rare-note", text: "Rated fewer than " + MIN_SUPPORT + " movies: too few for a " +
        "reliable taste vector, so this user is kept out of other users' lists and placed beside the users nearest to them." }));
    } else {
      var where = regionLink("users", row);
      if (where) body.appendChild(where);
    }
    if (state.map !== "movies") {
      var show = el("button", { type: "button", text: "Show them on the movie map" });
      show.addEventListener("click", function () { switchMap("movies"); });
      body.appendChild(el("p", {}, [show]));
    }
    body.appendChild(el("h3", { text: "Recommended for this user" }));
    body.appendChild(el("p", { className: "hint", text: "Scored by " + U.scoring + "." }));
    var list = el("ol", { className: "list recs", id: "recommendations" });
    s.recs[i].forEach(function (j, n) {
      var item = movieLink(j, s.scores[i][n].toFixed(2));
      var hint = s.because[i][n];
      if (hint >= 0) {
        var link = el("a", { href: movieHref(hint), text: titleOf(hint) });
        link.addEventListener("click", function () { state.focusPanel = true; });
        item.appendChild(el("span", { className: "because" }, ["because you rated ", link]));
      }
      list.appendChild(item);
    });
    if (!s.recs[i].length) list.appendChild(el("li", { text: "This user has rated every movie on the map." }));
    body.appendChild(list);
    if (s.similar) {
      body.appendChild(el("h3", { text: "Users with similar taste" }));
      var similar = el("ol", { className: "list", id: "similar-users" });
      s.similar[i].forEach(function (j, n) {
        var link = el("a", { href: "#user=" + encodeURIComponent(users.ids[j]), text: "User " + users.ids[j] });
        link.addEventListener("click", function () { state.focusPanel = true; });
        similar.appendChild(el("li", {}, [link, el("span", { className: "note", text: s.similar_scores[i][n].toFixed(2) })]));
      });
      body.appendChild(similar);
    }
    openPanel();
  }

  function renderRegion(what, index) {
    var body = $("panel-body"), regions = state[what].regions, member = regions.member, target = state[what];
    body.textContent = "";
    body.appendChild(el("h2", { id: "panel-title", tabindex: "-1", text: regions.names[index] }));
    var noun = what === "movies" ? " movies" : " users";
    body.appendChild(el("p", { className: "meta", text: "A region of the " + (what === "movies" ? "movie" : "user") +
      " map: " + number(regions.sizes[index]) + noun + ", named by the genres and decade over-represented in it." }));
    if (regions.titles[index].length) {
      body.appendChild(el("p", { className: "hint", text: (what === "movies" ? "Best known: " : "They rate far more than others: ") +
        regions.titles[index].join(" · ") }));
    }
    var rows = [];
    for (var i = 0; i < member.length; i++) if (member[i] === index) rows.push(i);
    var rank = what === "movies" ? state.movies.pop : state.users.count;
    rows.sort(function (a, b) { return rank[b] - rank[a] || a - b; });
    body.appendChild(el("h3", { text: what === "movies" ? "Its movies, most rated first" : "Its users, most active first" }));
    var list = el("ol", { className: "list", id: "region-members" });
    rows.slice(0, 200).forEach(function (row) {
      if (what === "movies") {
        list.appendChild(movieLink(row, facetNames(row)));
      } else {
        var link = el("a", { href: "#user=" + encodeURIComponent(target.ids[row]), text: "User " + target.ids[row] });
        link.addEventListener("click", function () { state.focusPanel = true; });
        list.appendChild(el("li", {}, [link, el("span", { className: "note", text: number(target.count[row]) + " rated" })]));
      }
    });
    body.appendChild(list);
    if (rows.length > 200) body.appendChild(el("p", { className: "hint", text: "… and " + number(rows.length - 200) + " more." }));
    openPanel();
  }

  $("panel-close").addEventListener("click", clearHash);

  // ---------------------------------------------------------------- search

  var input = $("q"), results = $("results"), matches = [], active = -1;

  function search(text, limit) {
    var titles = state.movies.titles;
    if (!state.movies.folded) state.movies.folded = titles.map(fold);
    var folded = state.movies.folded, pop = state.movies.pop, found = [];
    var query = fold(text.trim());
    if (!query) return [];
    for (var i = 0; i < folded.length; i++) {
      var at = folded[i].indexOf(query);
      if (at < 0) {
        var withYear = folded[i] + " (" + yearOf(i) + ")";
        if (!yearOf(i) || withYear.indexOf(query) < 0) continue;
        at = withYear.indexOf(query);
      }
      var rank = at === 0 ? 0 : /[\s\-:(,.'"]/.test(folded[i].charAt(at - 1)) ? 1 : 2;
      found.push({ row: i, key: rank * 1024 + (255 - pop[i]) });
    }
    found.sort(function (a, b) { return a.key - b.key || a.row - b.row; });
    return found.slice(0, limit).map(function (f) { return f.row; });
  }

  function showResults() {
    var text = input.value;
    if (!text.trim()) { closeResults(); return; }
    loadTitles().then(function () {
      if (input.value !== text) return;
      matches = search(text, 12);
      active = matches.length ? 0 : -1;
      results.textContent = "";
      matches.forEach(function (row, n) {
        var option = el("li", { role: "option", id: "result-" + n, "aria-selected": n === active ? "true" : "false" }, [
          el("span", { className: "t", text: titleOf(row) }),
          el("span", { className: "g", text: facetNames(row) })
        ]);
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { pickResult(n); });
        results.appendChild(option);
      });
      if (!matches.length) results.appendChild(el("li", { className: "none", text: "No title contains “" + text.trim() + "”" }));
      results.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlightResult();
    }).catch(fail);
  }

  function highlightResult() {
    Array.prototype.forEach.call(results.querySelectorAll("[role=option]"), function (option, n) {
      option.setAttribute("aria-selected", n === active ? "true" : "false");
      if (n === active) option.scrollIntoView({ block: "nearest" });
    });
    if (active >= 0) input.setAttribute("aria-activedescendant", "result-" + active);
    else input.removeAttribute("aria-activedescendant");
  }

  function closeResults() {
    results.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function pickResult(n) {
    var row = matches[n];
    if (row === undefined) return;
    closeResults();
    state.focusPanel = true;
    if (state.map !== "movies") switchMap("movies");
    choose("movie", row);
  }

  var typing = 0;
  input.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(showResults, 60);
  });
  input.addEventListener("focus", function () { if (input.value.trim()) showResults(); });
  input.addEventListener("blur", function () { setTimeout(closeResults, 150); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (results.hidden) { showResults(); return; }
      if (!matches.length) return;
      active = (active + (event.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      highlightResult();
    } else if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(typing);
      if (results.hidden || !matches.length) {
        loadTitles().then(function () { matches = search(input.value, 12); pickResult(0); });
      } else {
        pickResult(Math.max(0, active));
      }
    } else if (event.key === "Escape") {
      if (!results.hidden) closeResults();
      else input.value = "";
    }
  });

  // ---------------------------------------------------------------- users, layouts, legend

  $("user-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var id = $("user-id").value.trim();
    if (!id) return;
    state.focusPanel = true;
    var hash = "#user=" + encodeURIComponent(id);
    if (location.hash === hash) fromHash();
    else location.hash = hash;
  });

  function switchMap(map) {
    if (map === state.map) return Promise.resolve();
    var ready = Promise.all([map === "users" ? loadUsers() : Promise.resolve(), loadRegions(map).catch(function () { return null; })]);
    return ready.then(function () { return loadLayout(map, state.layout); }).then(function (pos) {
      state.map = map;
      $("show-movies").setAttribute("aria-pressed", map === "movies" ? "true" : "false");
      $("show-users").setAttribute("aria-pressed", map === "users" ? "true" : "false");
      canvas.dataset.map = map;
      renderer.setPoints(pos, side().order, side().grow);
      state.grid = null;
      resetView();
      buildLegend();
      setMarks();
      recolour();
      if (state.selection && state.selection.kind === "user") fromHash();
      report();
    }).catch(fail);
  }

  function switchLayout(name) {
    return loadLayout(state.map, name).then(function (pos) {
      state.layout = name;
      canvas.dataset.layout = name;
      renderer.setPoints(pos, side().order, side().grow);
      state.grid = null;
      resetView();
      if (state.selection && state.map === "movies" && state.selection.kind === "movie") centreOn(state.selection.row);
      setMarks();
      recolour();
      report();
    }).catch(fail);
  }

  $("show-movies").addEventListener("click", function () { switchMap("movies"); });
  $("show-users").addEventListener("click", function () { switchMap("users"); });
  $("layout").addEventListener("change", function (event) { switchLayout(event.target.value); });

  function facetCounts() {
    if (state.map === "movies") return FACETS.map(function (f) { return f.count; });
    var counts = FACETS.map(function () { return 0; }), facet = state.users.facet;
    for (var i = 0; i < facet.length; i++) if (facet[i] !== UNKNOWN && facet[i] < counts.length) counts[facet[i]]++;
    return counts;
  }

  function buildLegend() {
    var list = $("legend-items"), counts = facetCounts(), regions = side().regions;
    list.textContent = "";
    var byRegion = state.colourBy === "region" && regions;
    $("all-genres").hidden = !!byRegion;
    if (byRegion) {
      regions.names.forEach(function (name, r) {
        var button = el("button", { type: "button", "data-region": String(r) }, [
          el("span", { className: "swatch", style: "background: rgb(" + regions.colours[r].join(",") + ")" }),
          el("span", { className: "name", text: name }),
          el("span", { className: "count", text: number(regions.sizes[r]) })
        ]);
        button.addEventListener("click", function () { state.focusPanel = true; chooseRegion(state.map, r); });
        list.appendChild(el("li", {}, [button]));
      });
    }
    FACETS.forEach(function (facet, f) {
      if (byRegion || (state.map === "users" && !counts[f])) return;  // no user has it as their top genre
      var c = rgbOf(f);
      var button = el("button", { type: "button", "data-facet": String(f), "aria-pressed": state.enabled & (1 << f) ? "true" : "false" }, [
        el("span", { className: "swatch", style: "background: rgb(" + c.join(",") + ")" }),
        el("span", { className: "name", text: facet.name }),
        el("span", { className: "count", text: number(counts[f]) })
      ]);
      button.addEventListener("click", function () {
        state.enabled ^= 1 << f;
        button.setAttribute("aria-pressed", state.enabled & (1 << f) ? "true" : "false");
        recolour();
        setMarks();
      });
      list.appendChild(el("li", {}, [button]));
    });
    var rareCount = state.map === "movies" ? M.rare : U.rare, rare = $("show-rare");
    rare.hidden = !rareCount;
    rare.textContent = (state.showRare ? "Hide the " : "Show the ") + number(rareCount || 0) + " barely rated " +
      (state.map === "movies" ? "movies" : "users") + " (fewer than " + MIN_SUPPORT + " ratings)";
    rare.setAttribute("aria-pressed", state.showRare ? "true" : "false");
    var labels = $("show-labels");
    labels.hidden = !REGIONS[state.map];
    labels.setAttribute("aria-pressed", state.showLabels ? "true" : "false");
    $("legend").querySelector("summary").textContent = byRegion ? "Regions" : state.map === "movies" ? "Genres" : "Users by top genre";
    $("legend-hint").textContent = byRegion ? "Each point in its region's colour, grey between regions; click one to list it." :
      state.map === "movies" ? "A movie counts in each of its genres; click to hide or show." :
      "Each user is coloured by the genre they rated most; click to hide or show.";
  }

  function updateLegendCounts() {
    Array.prototype.forEach.call($("legend-items").querySelectorAll("button[data-facet]"), function (button) {
      button.setAttribute("aria-pressed", state.enabled & (1 << Number(button.dataset.facet)) ? "true" : "false");
    });
    report();
  }

  $("legend").addEventListener("toggle", function () { placeLabels(); });

  if ($("colour-by")) {
    $("colour-by").value = state.colourBy;
    $("colour-by").addEventListener("change", function (event) {
      state.colourBy = event.target.value;
      loadRegions(state.map).then(function () { buildLegend(); recolour(); setMarks(); }).catch(fail);
    });
  }

  $("show-rare").addEventListener("click", function () {
    state.showRare = !state.showRare;
    buildLegend();
    recolour();
    setMarks();
  });

  $("show-labels").addEventListener("click", function () {
    state.showLabels = !state.showLabels;
    buildLegend();
    placeLabels();
  });

  $("all-genres").addEventListener("click", function () {
    state.enabled = ALL;
    recolour();
    setMarks();
  });

  function report() {
    var label = manifest.layouts.filter(function (l) { return l.name === state.layout; })[0];
    var what = state.map === "movies" ? "movies" : "users";
    statusLine.textContent = number(state.visible) + " of " + number(side().n) + " " + what + " · " +
      (label ? label.label : state.layout) + " · " + (renderer.kind === "webgl" ? "WebGL" : "Canvas 2D");
  }

  function fail(error) {
    statusLine.textContent = "Something went wrong: " + (error && error.message ? error.message : error);
    statusLine.setAttribute("role", "alert");
  }

  // ---------------------------------------------------------------- start

  function start() {
    if (window.matchMedia && window.matchMedia("(max-width: 40rem)").matches) $("legend").open = false;
    var points = load("movies/points", "movies-points.js").then(function (payload) {
      state.movies.mask = u16(payload.mask);
      state.movies.year = bytes(payload.year);
      state.movies.pop = bytes(payload.pop);
      state.movies.rare = payload.rare ? bytes(payload.rare) : null;
      prominence(state.movies, state.movies.pop);
    });
    var first = Promise.all([points, loadLayout("movies", state.layout)]);
    // A deep link needs the ids and titles too: ask for them now, in parallel.
    if (/^#(movie|user)=/.test(location.hash)) { loadMovieIds(); loadTitles(); }
    first.then(function (loaded) {
      canvas.dataset.map = "movies";
      canvas.dataset.layout = state.layout;
      renderer.setPoints(loaded[1], state.movies.order, state.movies.grow);
      resetView();
      resize();
      buildLegend();
      recolour();
      draw();
      report();
      document.body.dataset.ready = "true";
      if (window.performance && performance.mark) performance.mark("reelspace-interactive");
      // Titles are needed by hover and search, region names by the map: fetch them right after the first paint.
      setTimeout(function () {
        loadTitles().catch(fail);
        loadRegions("movies").then(function () { if (state.map === "movies") { buildLegend(); placeLabels(); } }).catch(fail);
      }, 0);
      window.addEventListener("hashchange", function () { fromHash(); });
      if (typeof ResizeObserver === "function") new ResizeObserver(resize).observe(canvas);
      else window.addEventListener("resize", resize);
      return fromHash();
    }).catch(fail);
  }

  // For the tests and the benchmark: the state, where a point is, what is under a point, a synchronous frame.
  window.reelspace = { state: state, screenOf: screenOf, pick: pick, manifest: manifest, redraw: draw, labels: placeLabels };
  start();
})();
