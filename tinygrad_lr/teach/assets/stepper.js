// The backprop stepper page of tinygrad_lr (written by tinygrad_lr/page.py).
//
// The graph is drawn once, by graphviz, with every box sized for every gradient it will show.
// A step changes only what the Python side recorded for it: the fills of some boxes and ops,
// some gradients, and the step's text (Step.lines(), the same strings the terminal prints).
// Any step is rebuilt from the start state by applying the recorded changes in order.
// The graph is fitted to its panel (both ways); + and − scale it from there, and the panel
// scrolls to keep the current step's box in view.
function tinygradLrStepper(root, standalone) {
  "use strict";
  const NBSP = "\u00a0";
  const data = JSON.parse(root.querySelector(".tglr-data").textContent);
  const text = root.querySelector(".tglr-text");
  const slider = root.querySelector(".tglr-slider");
  const counter = root.querySelector(".tglr-counter");
  const info = root.querySelector(".tglr-info");
  const graph = root.querySelector(".tglr-graph");
  const svg = graph.querySelector("svg");
  const drawn = svg.viewBox.baseVal; // graphviz's size, in pt
  const LARGEST_FIT = 8 / 3; // px per pt: a small graph is fitted up to twice its own size
  const STEP = 1.25;
  let larger = 0; // how many times + was pressed over the fit
  const groups = {};
  for (const group of root.querySelectorAll("g.node[data-node]")) {
    groups[group.dataset.node] = group;
  }
  let at = 0;
  let selected = null;

  function state(k) {
    const fill = Object.assign({}, data.start.fill);
    const grad = Object.assign({}, data.start.grad);
    for (let i = 0; i < k; i++) {
      Object.assign(fill, data.steps[i].fill);
      Object.assign(grad, data.steps[i].grad);
    }
    return { fill, grad };
  }

  // A line of a gradient as the box shows it: spaces kept, continuation lines under the numbers.
  function boxLine(line, i) {
    return (i ? NBSP.repeat(data.indent) : "") + line.replace(/ /g, NBSP);
  }

  // A line of the step's text: a block whose wrapped parts are indented under its own start.
  function textLine(line, i, lines) {
    const item = document.createElement("span");
    const indent = line.length - line.trimStart().length + 4;
    item.style.paddingLeft = `${indent}ch`;
    item.style.textIndent = `${-indent}ch`;
    item.textContent = i + 1 < lines.length ? line + "\n" : line; // the text copies as it prints
    return item;
  }

  function show(k) {
    at = Math.max(0, Math.min(data.steps.length, k));
    const { fill, grad } = state(at);
    for (const [id, color] of Object.entries(fill)) {
      const group = groups[id];
      if (group) group.querySelectorAll("[data-fill]").forEach((cell) => cell.setAttribute("fill", color));
    }
    for (const [id, lines] of Object.entries(grad)) {
      const group = groups[id];
      if (!group) continue;
      group.querySelectorAll("[data-grad-line]").forEach((cell, i) => {
        cell.textContent = boxLine(lines[i] || "", i);
      });
    }
    root.querySelectorAll(".tglr-current").forEach((group) => group.classList.remove("tglr-current"));
    const current = at ? data.steps[at - 1].node : null;
    for (const id of [current, current + "_op"]) {
      if (current !== null && groups[id]) groups[id].classList.add("tglr-current");
    }
    root.dataset.current = current || "";
    follow();
    text.replaceChildren(...(at ? data.steps[at - 1].lines : [data.intro]).map(textLine));
    slider.value = String(at);
    counter.textContent = `step ${at} of ${data.steps.length}`;
    if (selected !== null) describe(selected, grad);
  }

  // The graph fitted to its panel, times STEP ** larger; sizes in whole px, so that a fitted
  // graph never overflows its panel by a fraction.
  function size() {
    if (!graph.clientWidth || !graph.clientHeight) return; // not laid out (a hidden notebook cell)
    const fit = Math.min(graph.clientWidth / drawn.width, graph.clientHeight / drawn.height, LARGEST_FIT);
    const scale = fit * STEP ** larger;
    svg.style.width = `${Math.floor(drawn.width * scale)}px`;
    svg.style.height = `${Math.floor(drawn.height * scale)}px`;
    follow();
  }

  // Scroll the graph's panel (only it: a notebook around the page stays put) to centre the
  // current step's box and op when they are not both in view.
  function follow() {
    const current = root.dataset.current;
    const shapes = [groups[current], groups[current + "_op"]].filter(Boolean);
    if (!shapes.length) return;
    const boxes = shapes.map((shape) => shape.getBoundingClientRect());
    const panel = graph.getBoundingClientRect();
    const left = Math.min(...boxes.map((box) => box.left)) - panel.left - graph.clientLeft;
    const top = Math.min(...boxes.map((box) => box.top)) - panel.top - graph.clientTop;
    const width = Math.max(...boxes.map((box) => box.right)) - panel.left - graph.clientLeft - left;
    const height = Math.max(...boxes.map((box) => box.bottom)) - panel.top - graph.clientTop - top;
    if (left >= 0 && top >= 0 && left + width <= graph.clientWidth && top + height <= graph.clientHeight) return;
    graph.scrollLeft += left + width / 2 - graph.clientWidth / 2;
    graph.scrollTop += top + height / 2 - graph.clientHeight / 2;
  }

  function block(title, body) {
    const heading = document.createElement("div");
    heading.textContent = title;
    const lines = document.createElement("pre");
    lines.textContent = body;
    info.append(heading, lines);
  }

  // What a click on a node shows: its name, value, gradient as it stands, and its op's formula.
  function describe(id, grad) {
    const node = data.nodes[id];
    info.replaceChildren();
    const name = document.createElement("h4");
    name.textContent = node.name + (node.shape ? ` (${node.shape})` : "");
    info.append(name);
    block("value", node.value.join("\n"));
    if (node.constant) {
      block("gradient", "none: a constant, which no gradient flows to");
    } else {
      const lines = (grad[id] || []).map((line) => line.trimEnd()).filter((line) => line);
      const reached = lines.length && lines[0] !== "—";
      block(`gradient ${node.d}, as it stands`, reached ? lines.join("\n") : "nothing has reached it yet");
    }
    if (node.made) {
      block("made by", node.made);
      if (node.rules.length) block("its local derivatives", node.rules.join("\n"));
    } else {
      block("made by", "nothing: an input of the graph");
    }
    root.dataset.selected = id;
  }

  function select(id) {
    selected = id;
    root.querySelectorAll(".tglr-selected").forEach((group) => group.classList.remove("tglr-selected"));
    if (groups[id]) groups[id].classList.add("tglr-selected");
    describe(id, state(at).grad);
  }

  function act(action) {
    if (action in scales) {
      larger = Math.max(0, Math.min(12, scales[action](larger)));
      return size();
    }
    show({ first: 0, previous: at - 1, next: at + 1, last: data.steps.length }[action]);
  }

  const scales = { larger: (n) => n + 1, smaller: (n) => n - 1, fit: () => 0 };
  const key = root.querySelector(".tglr-key");
  for (const [color, meaning] of data.key) {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = color;
    item.append(swatch, meaning);
    key.append(item);
  }
  root.querySelectorAll("button[data-action]").forEach((button) => {
    button.addEventListener("click", () => act(button.dataset.action));
  });
  slider.max = String(data.steps.length);
  slider.addEventListener("input", () => show(Number(slider.value)));
  const keys = { ArrowRight: "next", ArrowLeft: "previous", Home: "first", End: "last" };
  Object.assign(keys, { "+": "larger", "=": "larger", "-": "smaller", "0": "fit" });
  (standalone ? document : root).addEventListener("keydown", (event) => {
    const action = keys[event.key];
    if (!action || event.target === slider || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    act(action);
  });
  root.querySelector(".tglr-graph").addEventListener("click", (event) => {
    const group = event.target.closest("g.node[data-node]");
    if (group) select(group.dataset.of || group.dataset.node);
  });
  if (standalone) root.classList.add("tglr-page");
  new ResizeObserver(size).observe(root);
  show(0);
}
