// livegan's control page: builds its controls from the show's OSCQuery tree (the `hello`
// message on the WebSocket /ws), sends what the performer moves as `osc` messages and moves
// the controls with the `values` the show sends back. Plain JavaScript, no build step.
"use strict";

(() => {
  const SEND_INTERVAL_MS = 1000 / 60;  // at most 60 messages a second per control
  const QUIET_MS = 400;  // a control just moved by hand ignores the show's values this long
  const PREVIEW_MS = 250;  // the preview picture: about 4 a second
  const DIR_RANGE = [-3, 3];  // direction amounts the sliders and the XY pad sweep
  const EXPLORE_COUNT = 9;  // seeds in the explorer grid
  const FIRST_DIRECTIONS = 8;  // direction sliders shown; the rest are folded
  const STYLE_ARCHS = new Set(["stylegan2", "stylegan3", "lsg2"]);  // noise and space apply
  // each bend op's amounts, as livegan.bendops names them (the tree gives only their ranges)
  const BEND_AMOUNTS = {ablate: ["share", "offset"], translate: ["x", "y"],
    flip: ["horizontal", "vertical"], noise: ["amount", "phase"]};
  const SKIP = new Set(["/livegan/z", "/livegan/dirs", "/livegan/query", "/wek/outputs"]);

  const state = {
    ws: null,
    retry: 0,  // reconnect attempts since the last hello
    model: "",
    models: [],
    values: new Map(),  // address -> last known args
    bound: new Map(),  // address -> Set of controls ({set(args)})
    throttle: new Map(),  // address -> {last, timer, args}
    quietUntil: new Map(),  // address -> time until which incoming values are ignored
    learning: null,  // {label, button} while this page's learn waits for a control
    picking: null,  // a row of buttons waiting for the one to learn
    exploreBase: 0,
    space: "z",
    seed: null,  // the seed the page glided to last
    flags: {},  // write-only toggles (record, hud): the page's own idea of them
  };

  const $ = (id) => document.getElementById(id);

  /** A DOM element: el("div", {class: "x", onclick: f}, child, "text", ...). */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) {
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
    }
    return node;
  }

  function format(value) {
    if (typeof value !== "number") return String(value);
    const abs = Math.abs(value);
    return abs >= 100 ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : value.toFixed(2);
  }

  // ---- the WebSocket -------------------------------------------------------------------

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    state.ws = ws;
    ws.addEventListener("open", () => setLink("open"));
    ws.addEventListener("message", (event) => {
      if (typeof event.data !== "string") return;  // binary: OSCQuery LISTEN, not ours
      let msg;
      try { msg = JSON.parse(event.data); } catch { return; }
      receive(msg);
    });
    ws.addEventListener("close", () => {
      if (state.ws !== ws) return;
      setLink("down");
      const wait = Math.min(3000, 300 * 2 ** state.retry++);
      setTimeout(connect, wait);  // the show restarted or the network blinked
    });
  }

  function send(msg) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) {
      state.ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  /** Sends `args` to `address`, at most 60 times a second (the newest args win). */
  function sendOsc(address, args) {
    state.values.set(address, args);
    state.quietUntil.set(address, performance.now() + QUIET_MS);
    let slot = state.throttle.get(address);
    if (!slot) state.throttle.set(address, slot = {last: -1e9, timer: 0, args: null});
    slot.args = args;
    if (slot.timer) return;
    const flush = () => {
      slot.timer = 0;
      slot.last = performance.now();
      send({type: "osc", address, args: slot.args});
    };
    const wait = slot.last + SEND_INTERVAL_MS - performance.now();
    if (wait <= 0) flush();
    else slot.timer = setTimeout(flush, wait);
  }

  function setLink(how) {
    $("link").className = `dot ${how}`;
    $("link").title = {open: "connected", down: "reconnecting…", paired: "connected"}[how] || how;
    document.body.classList.toggle("offline", how === "down");
    if (how === "down") $("model-name").textContent = "reconnecting…";
  }

  function receive(msg) {
    switch (msg.type) {
      case "hello":
      case "tree":
        state.retry = 0;
        if (msg.paired === false) { showPairing(true); return; }
        showPairing(false);
        if (msg.tree) build(msg);
        if (msg.learning) banner(`Learning ${msg.learning}: move a MIDI knob or send OSC`);
        return;
      case "values":
        applyValues(msg.values || {});
        if (msg.hud) showHud(msg.hud);
        return;
      case "pair":
        return paired(msg);
      case "learned":
        return learned(msg.mapping || {});
      case "learning":  // armed or cancelled, here or on another page
        if (!msg.target) stopLearning(false);
        else if (!state.learning) banner(`Learning ${msg.target}: move a MIDI knob or send OSC`);
        return undefined;
      case "stored":
        return toast(`Stored scene ${msg.scene}: Save keeps it in the patch`);
      case "saved":
        return toast(`Saved ${msg.path}`);
      case "error":
        if (!$("pairing").hidden) return pairError(msg.message);
        stopLearning();
        return toast(msg.message || "error", true);
      default:
        return undefined;
    }
  }

  // ---- values both ways ----------------------------------------------------------------

  function bind(address, control) {
    if (!state.bound.has(address)) state.bound.set(address, new Set());
    state.bound.get(address).add(control);
    if (state.values.has(address)) control.set(state.values.get(address));
  }

  function applyValues(values) {
    const now = performance.now();
    for (const [address, args] of Object.entries(values)) {
      if (!Array.isArray(args)) continue;
      if ((state.quietUntil.get(address) || 0) > now) continue;  // the performer's hand wins
      if (address === "/livegan/dirs") {  // fan out to the one-direction controls
        args.forEach((v, i) => applyValues({[`/livegan/dir/${i}`]: [v]}));
        continue;
      }
      state.values.set(address, args);
      for (const control of state.bound.get(address) || []) control.set(args);
    }
  }

  function showHud(hud) {
    const put = (key, text) => { if (hud[key] !== undefined) $(`hud-${key}`).textContent = text; };
    put("fps", typeof hud.fps === "number" ? hud.fps.toFixed(1) : hud.fps);
    put("frame", hud.frame);
    put("received", hud.received);
    put("dropped", hud.dropped);
    put("backend", hud.backend);
  }

  // ---- building the page from the tree -------------------------------------------------

  function nodes(tree) {
    const out = [];
    const walk = (node) => {
      if (node.TYPE !== undefined && node.FULL_PATH) out.push(node);
      for (const child of Object.values(node.CONTENTS || {})) walk(child);
    };
    walk(tree);
    return out;
  }

  function build(msg) {
    const open = new Set([...document.querySelectorAll("details[open]")].map((d) => d.id));
    state.bound.clear();
    state.model = msg.model || state.model;
    state.models = msg.models || state.models;
    const all = new Map(nodes(msg.tree).map((n) => [n.FULL_PATH, n]));
    for (const node of all.values()) {
      if (node.VALUE !== undefined) state.values.set(node.FULL_PATH, node.VALUE);
    }
    const used = new Set(SKIP);
    const take = (address) => { used.add(address); return all.get(address); };
    const current = state.models.find((m) => m.name === state.model);
    $("model-name").replaceChildren(state.model, current && current.resolution
      ? el("span", {class: "res"}, ` · ${current.resolution}px`) : "");

    // two columns on a wide screen (each panel as tall as its controls), one on a phone:
    // the panels' `order` (style.css) keeps the phone's order the same as below
    take("/livegan/seed");  // the seed panel beside the preview
    const left = [motionSection(take), scenesSection(take), showSection(take),
      modelSection(take, current)];
    const right = [directionsSection(all, used)];
    const wide = [bendsSection(all, used), otherSection(all, used), latentSection(all, used)];
    $("controls").replaceChildren(
      el("div", {class: "column"}, left.filter(Boolean)),
      el("div", {class: "column"}, right.filter(Boolean)),
      ...wide.filter(Boolean));
    for (const id of open) { const d = document.getElementById(id); if (d) d.open = true; }
    setupSeed();
  }

  function section(title, id, ...children) {
    return el("section", {class: "panel", id}, el("h2", {}, title), ...children);
  }

  function folded(title, id, ...children) {
    return el("details", {class: "panel fold", id},
      el("summary", {}, el("h2", {}, title)), ...children);
  }

  function range(node) {
    const r = (node.RANGE || [])[0] || {};
    return typeof r.MIN === "number" && typeof r.MAX === "number" ? [r.MIN, r.MAX] : null;
  }

  function title(node) {
    return node.FULL_PATH.split("/").pop();
  }

  // ---- control kinds -------------------------------------------------------------------

  /** A labelled slider with a typed-in value. `index` picks one arg of a multi-arg address. */
  function slider({address, label, min, max, step, learn, index = 0, size = 1, hint}) {
    step = step || (max - min) / 1000;
    const input = el("input", {type: "range", min, max, step, "aria-label": label});
    const number = el("input", {type: "number", class: "value", min, max, step: "any",
      inputmode: "decimal", "aria-label": `${label} value`});
    const value = () => {
      const args = [...(state.values.get(address) || new Array(size).fill(0))];
      while (args.length < size) args.push(0);
      return args;
    };
    const push = (v) => {
      const args = value();
      args[index] = Math.min(max, Math.max(min, v));
      sendOsc(address, args);
      show(args);
    };
    const show = (args) => {
      const v = Number(args[index]);
      if (!Number.isFinite(v)) return;
      input.value = v;
      if (document.activeElement !== number) number.value = format(v);
    };
    input.addEventListener("input", () => push(Number(input.value)));
    number.addEventListener("blur", () => show(value()));
    number.addEventListener("change", () => {
      const v = number.value.trim() === "" ? NaN : Number(number.value);
      if (Number.isFinite(v)) push(v);
    });
    const row = el("div", {class: "row slider", dataset: {address, index}, title: hint},
      el("label", {class: "label"}, label), number, input, learnButton(learn, label));
    bind(address, {set: show});
    if (!state.values.has(address)) show(new Array(size).fill(Math.min(max, Math.max(min, 0))));
    return row;
  }

  /** Buttons for one choice among `choices` (mode, noise, space, scenes). */
  function choice({address, label, choices, learn, sendValue, current, wide}) {
    const buttons = new Map();
    const mark = (v) => {
      for (const [name, b] of buttons) b.classList.toggle("on", name === v);
    };
    const group = el("div", {class: `choices${wide ? " wide" : ""}`, role: "group",
      "aria-label": label});
    for (const name of choices) {
      const b = el("button", {type: "button", dataset: {value: name}, onclick: () => {
        if (pick(label, name)) return;
        sendOsc(address, [sendValue ? sendValue(name) : name]);
        mark(name);
      }}, name);
      buttons.set(name, b);
      group.append(b);
    }
    bind(address, {set: (args) => mark(String(args[0]))});
    if (current !== undefined) mark(current);
    return el("div", {class: "row choice", dataset: {address}},
      el("span", {class: "label"}, label), group,
      learn ? learnButton({...learn, pick: true}, label, group) : null);
  }

  /** An on/off switch that sends 1 or 0 (record, HUD, 0..1 integers). */
  function toggle({address, label, learn}) {
    const input = el("input", {type: "checkbox", role: "switch", "aria-label": label});
    input.checked = Boolean(state.flags[address] ?? Number((state.values.get(address) || [0])[0]));
    input.addEventListener("change", () => {
      state.flags[address] = input.checked;
      sendOsc(address, [input.checked ? 1 : 0]);
    });
    bind(address, {set: (args) => { input.checked = Boolean(Number(args[0])); }});
    return el("div", {class: "row toggle", dataset: {address}},
      el("label", {class: "label switch"}, input, el("span", {class: "track"}), label),
      learnButton(learn, label));
  }

  function action({address, label, learn, args = []}) {
    return el("div", {class: "row action", dataset: {address}},
      el("button", {type: "button", onclick: () => send({type: "osc", address, args})}, label),
      learnButton(learn, label));
  }

  /** A typed field and a Send button, for addresses with no better control. */
  function field({address, label, type}) {
    const numeric = type === "i" || type === "f";
    const input = el("input", {type: numeric ? "number" : "text", step: type === "i" ? 1 : "any",
      "aria-label": label, inputmode: numeric ? "decimal" : undefined});
    const go = () => {
      const raw = input.value.trim();
      if (raw === "") return;
      const v = numeric ? Number(raw) : raw;
      if (numeric && !Number.isFinite(v)) return;
      send({type: "osc", address, args: [type === "i" ? Math.round(v) : v]});
    };
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
    bind(address, {set: (args) => { if (document.activeElement !== input) input.value = args[0]; }});
    return el("div", {class: "row entry", dataset: {address}},
      el("label", {class: "label"}, label), input,
      el("button", {type: "button", onclick: go}, "Send"));
  }

  /** The best control for any node of the tree. */
  function generic(node, label = node.FULL_PATH) {
    const address = node.FULL_PATH;
    const type = node.TYPE || "";
    const r = range(node);
    const vals = ((node.RANGE || [])[0] || {}).VALS;
    if (type === "N" || type === "") return action({address, label});
    if (vals && vals.length) {
      return choice({address, label, choices: vals, current: (node.VALUE || [])[0]});
    }
    if (type === "i" && r && r[0] === 0 && r[1] === 1) return toggle({address, label});
    if (/^f+$/.test(type)) {
      const outside = !address.startsWith("/livegan/");
      const [min, max] = r || (outside ? [0, 1] : DIR_RANGE);  // a patch's OSC: 0..1 in
      if (type.length === 1) return slider({address, label, min, max});
      return el("div", {class: "group"}, el("h3", {}, label), [...type].map((_, k) =>
        slider({address, label: `${k}`, min, max, index: k, size: type.length})));
    }
    return field({address, label, type: type[0]});
  }

  // ---- sections ------------------------------------------------------------------------

  function motionSection(take) {
    const rows = [];
    const mode = take("/livegan/mode");
    if (mode) {
      rows.push(choice({address: mode.FULL_PATH, label: "mode", choices: mode.RANGE[0].VALS,
        current: mode.VALUE[0], learn: {target: "mode"}}));
    }
    const hints = {speed: "walk speed (radians a second; keyframes a second in keys)",
      truncation: "1 = as trained; lower = calmer, nearer the average picture",
      smooth: "seconds a change takes to settle", morph: "position along the keyframe loop"};
    for (const name of ["speed", "truncation", "smooth", "morph"]) {
      const node = take(`/livegan/${name}`);
      if (!node) continue;
      const [min, max] = range(node) || [0, 1];
      const step = name === "smooth" ? 0.01 : (max - min) / 2000;
      rows.push(slider({address: node.FULL_PATH, label: name, min, max, step,
        learn: {target: name}, hint: hints[name]}));
    }
    return rows.length ? section("Motion", "sec-motion", ...rows) : null;
  }

  function scenesSection(take) {
    const node = take("/livegan/scene");
    if (!node) return null;
    const scenes = (((node.RANGE || [])[0] || {}).VALS) || [];
    const rows = [];
    if (scenes.length) {
      rows.push(choice({address: node.FULL_PATH, label: "recall", choices: scenes, wide: true,
        current: (node.VALUE || [])[0], learn: {target: "scene"}}));
    } else {
      rows.push(el("p", {class: "note"}, "No scenes in this patch yet: store one below."));
    }
    const name = el("input", {type: "text", placeholder: "scene name", maxlength: 64,
      "aria-label": "scene name", spellcheck: "false", autocomplete: "off"});
    const store = () => {
      const v = name.value.trim();
      if (v && send({type: "scene", store: v})) name.value = "";
    };
    name.addEventListener("keydown", (e) => { if (e.key === "Enter") store(); });
    rows.push(el("div", {class: "row entry", id: "scene-store"},
      el("label", {class: "label"}, "store"), name,
      el("button", {type: "button", onclick: store}, "Store")));
    return section("Scenes", "sec-scenes", ...rows);
  }

  function directionName(node) {
    const m = /\(([^;()]+);/.exec(node.DESCRIPTION || "");
    return m ? m[1] : `dir ${title(node)}`;
  }

  function directionsSection(all, used) {
    const dirs = [...all.values()].filter((n) => /^\/livegan\/dir\/\d+$/.test(n.FULL_PATH))
      .sort((a, b) => Number(title(a)) - Number(title(b)));
    if (!dirs.length) return null;
    dirs.forEach((n) => used.add(n.FULL_PATH));
    const rows = dirs.map((n) => slider({address: n.FULL_PATH, label: directionName(n),
      min: DIR_RANGE[0], max: DIR_RANGE[1], step: 0.01,
      learn: {target: "dir", index: Number(title(n))}, hint: n.DESCRIPTION}));
    const zero = el("button", {type: "button", class: "small", onclick: () => {
      const zeros = dirs.map(() => 0);
      send({type: "osc", address: "/livegan/dirs", args: zeros});
      applyValues({"/livegan/dirs": zeros});
    }}, "all to 0");
    const more = rows.length > FIRST_DIRECTIONS ? el("details", {class: "layer", id: "dirs-more"},
      el("summary", {}, `${rows.length - FIRST_DIRECTIONS} more directions`),
      rows.slice(FIRST_DIRECTIONS)) : null;
    return section("Directions", "sec-dirs", dirs.length > 1 ? xyPad(dirs) : null,
      ...rows.slice(0, FIRST_DIRECTIONS), more, el("div", {class: "row end"}, zero));
  }

  /** Two directions at once: pick them, then drag the dot. */
  function xyPad(dirs) {
    const options = () => dirs.map((n, i) =>
      el("option", {value: n.FULL_PATH, selected: undefined}, `${i}: ${directionName(n)}`));
    const pickX = el("select", {"aria-label": "x direction"}, options());
    const pickY = el("select", {"aria-label": "y direction"}, options());
    pickX.selectedIndex = 0;
    pickY.selectedIndex = 1;
    const dot = el("div", {class: "xy-dot"});
    const pad = el("div", {class: "xy-pad", role: "slider", tabindex: 0,
      "aria-label": "two directions"}, el("div", {class: "xy-h"}), el("div", {class: "xy-v"}),
    dot);
    const [lo, hi] = DIR_RANGE;
    const amount = (address) => Number((state.values.get(address) || [0])[0]) || 0;
    const draw = () => {
      const x = (amount(pickX.value) - lo) / (hi - lo);
      const y = (amount(pickY.value) - lo) / (hi - lo);
      dot.style.left = `${Math.min(1, Math.max(0, x)) * 100}%`;
      dot.style.top = `${(1 - Math.min(1, Math.max(0, y))) * 100}%`;
    };
    const move = (event) => {
      const box = pad.getBoundingClientRect();
      const fx = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
      const fy = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
      const x = lo + fx * (hi - lo);
      const y = lo + (1 - fy) * (hi - lo);
      sendOsc(pickX.value, [x]);
      sendOsc(pickY.value, [y]);
      applyLocal(pickX.value, [x]);
      applyLocal(pickY.value, [y]);
    };
    pad.addEventListener("pointerdown", (e) => {
      pad.setPointerCapture(e.pointerId);
      pad.classList.add("held");
      move(e);
    });
    pad.addEventListener("pointermove", (e) => { if (pad.hasPointerCapture(e.pointerId)) move(e); });
    const release = () => pad.classList.remove("held");
    pad.addEventListener("pointerup", release);
    pad.addEventListener("pointercancel", release);
    pickX.addEventListener("change", draw);
    pickY.addEventListener("change", draw);
    for (const n of dirs) bind(n.FULL_PATH, {set: draw});
    draw();
    return el("div", {class: "xy"},
      el("div", {class: "xy-picks"},
        el("label", {class: "field"}, "x", pickX), el("label", {class: "field"}, "y", pickY)),
      pad);
  }

  /** Moves every control bound to `address` as if the show had sent `args`. */
  function applyLocal(address, args) {
    state.values.set(address, args);
    for (const control of state.bound.get(address) || []) control.set(args);
  }

  function modelSection(take, current) {
    take("/livegan/model");
    const rows = [];
    if (state.models.length) {
      const cards = state.models.map((m) => el("button", {type: "button",
        class: `model-card${m.name === state.model ? " on" : ""}`, dataset: {model: m.name},
        title: `${m.name}: ${m.arch || ""} ${m.resolution || ""}px`,
        onclick: () => {
          send({type: "osc", address: "/livegan/model", args: [m.name]});
          toast(`Loading ${m.name}…`);
        }},
      el("img", {src: m.thumb, alt: "", loading: "lazy", width: 96, height: 96}),
      el("span", {}, m.name)));
      rows.push(el("div", {class: "models"}, cards));
    }
    const label = take("/livegan/label");
    const labelRange = label && range(label);
    if (labelRange && labelRange[1] > 0) {
      rows.push(slider({address: label.FULL_PATH, label: "label", min: labelRange[0],
        max: labelRange[1], step: 1, learn: {target: "label"}}));
    }
    const noise = take("/livegan/noise");
    const space = take("/livegan/space");
    const style = current ? STYLE_ARCHS.has(current.arch) : false;
    if (style && noise) {
      rows.push(choice({address: noise.FULL_PATH, label: "noise", choices: noise.RANGE[0].VALS,
        current: (noise.VALUE || [])[0]}));
    }
    if (style && space) {
      const vals = (((space.RANGE || [])[0] || {}).VALS) || ["z", "w"];
      rows.push(choice({address: space.FULL_PATH, label: "space", choices: vals,
        current: (space.VALUE || [state.space])[0],
        sendValue: (v) => { state.space = v; return v; }}));
    }
    return rows.length ? section("Model", "sec-model", ...rows) : null;
  }

  function showSection(take) {
    const rows = [];
    const record = take("/livegan/record");
    if (record) rows.push(toggle({address: record.FULL_PATH, label: "record", learn: {target: "record"}}));
    const hud = take("/livegan/hud");
    if (hud) rows.push(toggle({address: hud.FULL_PATH, label: "HUD on screen", learn: {target: "hud"}}));
    const snap = take("/livegan/snapshot");
    if (snap) rows.push(action({address: snap.FULL_PATH, label: "Snapshot", learn: {target: "snapshot"}}));
    const key = take("/livegan/key");
    const keyStore = take("/livegan/key/store");
    if (key) {
      const number = el("input", {type: "number", min: 0, step: 1, value: 0, inputmode: "numeric",
        "aria-label": "keyframe"});
      const n = () => Math.max(0, Math.round(Number(number.value) || 0));
      rows.push(el("div", {class: "row entry", dataset: {address: key.FULL_PATH}},
        el("label", {class: "label"}, "keyframe"), number,
        el("button", {type: "button", onclick: () => send({type: "osc", address: key.FULL_PATH,
          args: [n()]})}, "Go"),
        keyStore ? el("button", {type: "button", onclick: () => send({type: "osc",
          address: keyStore.FULL_PATH, args: [n()]})}, "Store") : null));
    }
    return rows.length ? section("Show", "sec-show", ...rows) : null;
  }

  function bendsSection(all, used) {
    const layers = new Map();  // layer -> [node]
    for (const node of all.values()) {
      const m = /^\/livegan\/bend\/([^/]+)\/([^/]+)$/.exec(node.FULL_PATH);
      if (!m) continue;
      used.add(node.FULL_PATH);
      if (!layers.has(m[1])) layers.set(m[1], []);
      layers.get(m[1]).push(node);
    }
    const off = all.get("/livegan/bend/off");
    if (off) used.add(off.FULL_PATH);
    if (!layers.size) return null;
    const blocks = [...layers].map(([layer, ops]) => {
      const rows = ops.map((node) => {
        const op = title(node);
        const size = node.TYPE.length;
        const ranges = node.RANGE || [];
        const names = BEND_AMOUNTS[op] || [];
        const sliders = [...node.TYPE].map((_, k) => slider({address: node.FULL_PATH,
          label: size > 1 ? names[k] || `${op} ${k}` : op, min: ranges[k].MIN,
          max: ranges[k].MAX, index: k, size, hint: node.DESCRIPTION,
          learn: {target: `bend[${layer}/${op}/${k}]`}}));
        return el("div", {class: "op"}, size > 1 ? el("h4", {}, op) : null, sliders);
      });
      const block = el("details", {class: "layer", id: `bend-${layer}`},
        el("summary", {}, `layer ${layer}`, el("span", {class: "note"}, ` ${layer}×${layer}`)),
        el("div", {class: "ops"}, rows));
      const mark = () => block.classList.toggle("bent", ops.some((n) =>
        (state.values.get(n.FULL_PATH) || []).some((v) => Number(v) !== 0)));
      for (const n of ops) bind(n.FULL_PATH, {set: mark});
      return block;
    });
    const reset = off ? el("button", {type: "button", class: "small", onclick: () => {
      send({type: "osc", address: off.FULL_PATH, args: []});
      for (const nodesOfLayer of layers.values()) {
        for (const n of nodesOfLayer) applyLocal(n.FULL_PATH, n.TYPE.split("").map(() => 0));
      }
    }}, "all bends off") : null;
    return folded("Bends", "sec-bends", el("p", {class: "note"},
      "Bend a layer's feature maps: coarse layers change shapes, fine ones texture."),
    blocks, el("div", {class: "row end"}, reset));
  }

  function otherSection(all, used) {
    const rest = [...all.values()].filter((n) => !used.has(n.FULL_PATH)
      && !/^\/livegan\/z\/\d+$/.test(n.FULL_PATH));
    const patch = rest.filter((n) => !n.FULL_PATH.startsWith("/livegan/"));
    const own = rest.filter((n) => n.FULL_PATH.startsWith("/livegan/"));
    const rows = [];
    if (patch.length) {
      rows.push(el("h3", {}, "this patch's addresses"));
      rows.push(...patch.map((n) => generic(n)));
    }
    rows.push(...own.map((n) => generic(n, n.FULL_PATH.replace("/livegan/", ""))));
    return rows.length ? section("More", "sec-more", ...rows) : null;
  }

  function latentSection(all, used) {
    const zs = [...all.values()].filter((n) => /^\/livegan\/z\/\d+$/.test(n.FULL_PATH));
    if (!zs.length) return null;
    zs.forEach((n) => used.add(n.FULL_PATH));
    const body = el("div", {class: "latent"});
    const fold = folded(`Latent (${zs.length})`, "sec-latent", el("p", {class: "note"},
      "Set single latent components; the walk moves on from there."), body);
    fold.addEventListener("toggle", () => {  // hundreds of sliders: build them when opened
      if (fold.open && !body.childElementCount) {
        body.append(...zs.map((n) => slider({address: n.FULL_PATH, label: `z ${title(n)}`,
          min: DIR_RANGE[0], max: DIR_RANGE[1], step: 0.01,
          learn: {target: "z", index: Number(title(n))}})));
      }
    });
    return fold;
  }

  // ---- seeds and the explorer ----------------------------------------------------------

  let seedReady = false;

  function setupSeed() {
    if (seedReady) return;
    seedReady = true;
    const seedField = $("seed");
    const glideTo = (seed) => {
      const glide = Math.max(0, Number($("glide").value) || 0);
      seedField.value = seed;
      send({type: "osc", address: "/livegan/seed", args: [seed, glide]});
      markExplore(seed);
    };
    $("seed-go").addEventListener("click", () => {
      glideTo(Math.max(0, Math.round(Number(seedField.value) || 0)));
    });
    seedField.addEventListener("keydown", (e) => { if (e.key === "Enter") $("seed-go").click(); });
    $("seed-random").addEventListener("click", () => glideTo(Math.floor(Math.random() * 100000)));
    $("seed-learn").addEventListener("click", () =>
      startLearn({target: "seed", value: Math.round(Number(seedField.value) || 0)},
        `seed ${seedField.value}`, $("seed-learn")));
    $("explore-prev").addEventListener("click", () => explore(state.exploreBase - EXPLORE_COUNT));
    $("explore-next").addEventListener("click", () => explore(state.exploreBase + EXPLORE_COUNT));
    state.glideTo = glideTo;
    explore(0);
  }

  async function explore(base) {
    base = Math.max(0, base);
    state.exploreBase = base;
    $("explore-range").textContent = `seeds ${base}–${base + EXPLORE_COUNT - 1}`;
    let items;
    try {
      const r = await fetch(`explore.json?seed=${base}&count=${EXPLORE_COUNT}&step=1`,
        {credentials: "same-origin"});
      if (!r.ok) throw new Error(r.statusText);
      items = (await r.json()).items || [];
    } catch {
      items = [];
      for (let i = 0; i < EXPLORE_COUNT; i++) items.push({seed: base + i, thumb: null});
    }
    if (state.exploreBase !== base) return;  // a newer page of seeds was asked for
    $("explore").replaceChildren(...items.map((item) => {
      const img = item.thumb ? thumb(item.thumb) : null;
      return el("button", {type: "button", class: "seed-tile", dataset: {seed: item.seed},
        title: `glide to seed ${item.seed}`, onclick: () => state.glideTo(item.seed)},
      img, el("span", {}, item.seed));
    }));
    markExplore(state.seed);
  }

  /** A thumbnail the show may still be rendering: tried again a few times. */
  function thumb(src) {
    const img = el("img", {alt: "", width: 96, height: 96, decoding: "async"});
    let tries = 0;
    img.addEventListener("error", () => {
      if (++tries <= 6) setTimeout(() => { img.src = `${src}?try=${tries}`; }, 700 * tries);
    });
    img.src = src;
    return img;
  }

  function markExplore(seed) {
    state.seed = seed;
    for (const tile of $("explore").children) {
      tile.classList.toggle("on", Number(tile.dataset.seed) === seed);
    }
  }

  // ---- learn ---------------------------------------------------------------------------

  function learnButton(learn, label, group) {
    if (!learn) return null;
    const button = el("button", {type: "button", class: "learn",
      title: "learn: the next MIDI control or OSC message moves this"}, "learn");
    button.addEventListener("click", () => {
      if (learn.pick) {  // a row of choices: the performer taps which one
        state.picking = {learn, label, group, button};
        group.classList.add("picking");
        button.classList.add("armed");
        banner(`Tap the ${learn.target} to learn`);
        return;
      }
      startLearn(learn, label, button);
    });
    return button;
  }

  /** While a row of choices waits for one to be picked for learn: learn it, return true. */
  function pick(label, value) {
    const p = state.picking;
    if (!p || p.label !== label) return false;
    p.group.classList.remove("picking");
    state.picking = null;
    startLearn({target: p.learn.target, value}, `${p.learn.target} ${value}`, p.button);
    return true;
  }

  function startLearn(learn, label, button) {
    stopLearning(false);
    const msg = {type: "learn", target: learn.target};
    if (learn.index !== undefined) msg.index = learn.index;
    if (learn.value !== undefined) msg.value = learn.value;
    if (!send(msg)) return;
    state.learning = {label, button};
    if (button) button.classList.add("armed");
    banner(`Learning ${label}: move a MIDI knob or send OSC`);
  }

  function stopLearning(tell = false) {
    if (state.picking) {
      state.picking.group.classList.remove("picking");
      state.picking.button.classList.remove("armed");
      state.picking = null;
    }
    if (state.learning && state.learning.button) state.learning.button.classList.remove("armed");
    if (tell && (state.learning || !$("learn-banner").hidden)) send({type: "learn", cancel: true});
    state.learning = null;
    $("learn-banner").hidden = true;
  }

  function banner(text) {
    $("learn-text").textContent = text;
    $("learn-banner").hidden = false;
  }

  function describeMapping(m) {
    let source = m.source || "";
    if (!source && m.midi) source = `MIDI ${Object.entries(m.midi).map((kv) => kv.join(" ")).join(" ")}`;
    if (!source && m.osc) source = `OSC ${m.osc}`;
    return `${source || "a control"} → ${m.to || "?"}`;
  }

  function learned(mapping) {
    stopLearning(false);
    toast(`Learned: ${describeMapping(mapping)}`);
  }

  // ---- save ----------------------------------------------------------------------------

  function setupSave() {
    $("save").addEventListener("click", () => send({type: "save"}));
    $("save-as").addEventListener("click", () => {
      $("saveas-form").hidden = false;
      $("saveas-name").focus();
    });
    $("saveas-cancel").addEventListener("click", () => { $("saveas-form").hidden = true; });
    $("saveas-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const name = $("saveas-name").value.trim();
      if (send({type: "save", name})) $("saveas-form").hidden = true;
    });
    $("learn-cancel").addEventListener("click", () => stopLearning(true));
  }

  let toastTimer = 0;

  function toast(text, bad = false) {
    const box = $("toast");
    box.textContent = text;
    box.classList.toggle("bad", bad);
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, bad ? 6000 : 3500);
  }

  // ---- pairing -------------------------------------------------------------------------

  function showPairing(on) {
    $("pairing").hidden = !on;
    document.body.classList.toggle("unpaired", on);
    if (on) {
      $("model-name").textContent = "pairing";
      $("pair-code").focus();
    }
  }

  function pairError(text) {
    $("pair-error").textContent = text;
    $("pair-error").hidden = false;
  }

  function paired(msg) {
    if (!msg.ok) {
      pairError(msg.message || "That code is not the show's. Try again.");
      $("pair-code").select();
      return;
    }
    $("pair-error").hidden = true;
    showPairing(false);
    state.retry = 0;
    if (state.ws) state.ws.close();  // connect again, now with the session cookie
  }

  function setupPairing() {
    $("pair-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const code = $("pair-code").value.replace(/\D/g, "");
      // POST: the answer sets the session cookie (HttpOnly) that every later request carries
      try {
        const r = await fetch("pair", {method: "POST", credentials: "same-origin",
          headers: {"Content-Type": "application/json"}, body: JSON.stringify({code})});
        paired(await r.json());
      } catch {
        pairError("The show did not answer: is it still running?");
      }
    });
  }

  // ---- the preview ---------------------------------------------------------------------

  function setupPreview() {
    const img = $("preview");
    let n = 0;
    const next = () => setTimeout(load, PREVIEW_MS);
    const load = () => {
      if (document.hidden || !$("pairing").hidden) { next(); return; }
      img.src = `preview.jpg?n=${n++}`;
    };
    img.addEventListener("load", () => { img.classList.add("live"); next(); });
    img.addEventListener("error", () => { img.classList.remove("live"); setTimeout(load, 1000); });
    load();
  }

  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { stopLearning(true); $("saveas-form").hidden = true; }
  });

  setupSave();
  setupPairing();
  setupPreview();
  connect();
  window.livegan = {state, send};  // for the browser tests and curious performers
})();
