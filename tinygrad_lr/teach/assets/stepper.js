// The backprop stepper page of tinygrad_lr (written by tinygrad_lr/page.py).
//
// The graph is drawn once, by graphviz, with every box sized for every gradient it will show.
// A step changes only what the Python side recorded for it: the fills of some boxes and ops,
// some gradients, and the step's text (Step.lines(), the same strings the terminal prints).
// Any step is rebuilt from the start state by applying the recorded changes in order.
function tinygradLrStepper(root, standalone) {
  "use strict";
  const NBSP = "\u00a0";
  const data = JSON.parse(root.querySelector(".tglr-data").textContent);
  const text = root.querySelector(".tglr-text");
  const slider = root.querySelector(".tglr-slider");
  const counter = root.querySelector(".tglr-counter");
  const info = root.querySelector(".tglr-info");
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
    text.textContent = at ? data.steps[at - 1].lines.join("\n") : data.intro;
    slider.value = String(at);
    counter.textContent = `step ${at} of ${data.steps.length}`;
    if (selected !== null) describe(selected, grad);
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
    if (action === "zoom") return root.querySelector(".tglr-graph").classList.toggle("tglr-actual");
    show({ first: 0, previous: at - 1, next: at + 1, last: data.steps.length }[action]);
  }

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
  show(0);
}
