// The view model's compact wire form (version 2, docs/view-schema.md) expanded into the object form (version 1)
// that the rest of the widget reads: model.nodes[i].parents, model.steps[k].arrived, and so on. An object-form
// model (version 1: a hand-made one, or one written by an older gradviz) is returned as it is.
//
// The wire form keeps the nodes, steps and groups as columns of numbers, with every summary once in a table
// (a finite float64 scalar is the bare number) referenced by index. Expanding is one pass over each column.

export const ROLES = ["input", "operation", "output", "constant"];
export const KINDS = ["root", "call", "loop", "iteration", "vjp"];

function summaryObject(v) {
  if (typeof v !== "number") return v;
  return { type: "f64[]", min: v, max: v, mean: v, norm: Math.abs(v), head: [v] };
}

function pairsById(list) {
  const out = new Map();
  if (list) for (const [id, value] of list) out.set(id, value);
  return out;
}

function decodeGroups(g) {
  const n = g.kind.length;
  const out = new Array(n);
  const { site, count } = g;
  const madeBy = g.made_by;
  for (let gid = 0; gid < n; gid++) {
    const label = g.label[gid];
    const parent = g.parent[gid];
    const group = {
      id: gid, kind: KINDS[g.kind[gid]], label: typeof label === "number" ? `iteration ${label}` : label,
      parent: parent < 0 ? null : parent, size: g.size[gid], collapsed: g.collapsed[gid] === 1,
    };
    if (site && site[gid] >= 0) group.site = site[gid];
    if (count && count[gid] >= 0) group.count = count[gid];
    if (madeBy && madeBy[gid] >= 0) group.made_by = madeBy[gid];
    out[gid] = group;
  }
  return out;
}

function decodeSteps(s, values, firstSent) {
  const n = s.node.length;
  const out = new Array(n);
  const nodes = s.node;
  const { arrived, sent } = s;
  const arrivedN = s.arrived_n;
  const sentN = s.sent_n;
  const outgrads = new Int32Array(n).fill(-1);
  const flat = s.outgrad || [];
  for (let i = 0; i < flat.length; i += 2) outgrads[flat[i]] = flat[i + 1];
  const levels = s.level;
  let a = 0;
  let p = 0;
  for (let k = 0; k < n; k++) {
    const na = arrivedN[k];
    const arrivals = new Array(na);
    for (let i = 0; i < na; i++, a += 3) {
      const child = arrived[a];
      const argnum = arrived[a + 1];
      arrivals[i] = [child < 0 ? null : child, argnum < 0 ? null : argnum, values[arrived[a + 2]]];
    }
    const ns = sentN[k];
    const sends = new Array(ns);
    for (let i = 0; i < ns; i++, p++) sends[i] = [sent[2 * p], sent[2 * p + 1], values[firstSent + p]];
    const ref = outgrads[k];
    out[k] = { node: nodes[k], level: levels ? levels[k] : 0, arrived: arrivals,
      outgrad: ref < 0 ? arrivals[0][2] : values[ref], sent: sends };
  }
  return out;
}

function decodeNodes(w, primitives, values, steps) {
  const n = w.primitive.length;
  const ids = w.id;
  const firstStep = new Map();
  const firstByIndex = ids ? null : new Int32Array(n).fill(-1);
  for (let k = steps.length - 1; k >= 0; k--) {
    const id = steps[k].node;
    if (firstByIndex && id < n) firstByIndex[id] = k;
    else firstStep.set(id, k);
  }
  const args = pairsById(w.args);
  const names = pairsById(w.name);
  const levels = pairsById(w.level);
  const madeBy = pairsById(w.made_by);
  const notes = pairsById(w.annotations);
  const faded = new Set(w.faded || []);
  const rare = args.size + names.size + levels.size + madeBy.size + notes.size + faded.size > 0;
  const ops = primitives.map((p) => p.slice(p.lastIndexOf(".") + 1));
  const counts = w.parents_n;
  const flat = w.parents;
  const prims = w.primitive;
  const roles = w.role;
  const groups = w.group;
  const sites = w.site;
  const out = new Array(n);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const id = ids ? ids[i] : i;
    const value = values[i];
    const count = counts[i];
    const parents = new Array(count);
    const text = new Array(count);
    for (let j = 0; j < count; j++, p += 2) {
      parents[j] = [flat[p], flat[p + 1]];
      text[j] = "%" + flat[p + 1];
    }
    const role = ROLES[roles[i]];
    const prim = prims[i];
    const node = { id, op: prim < 0 ? role : ops[prim], role, type: value.type, group: groups[i], parents,
      args: text, value };
    if (prim >= 0) node.primitive = primitives[prim];
    if (sites[i] >= 0) node.site = sites[i];
    if (rare) {
      if (args.has(id)) node.args = args.get(id);
      if (names.has(id)) node.name = names.get(id);
      if (levels.has(id)) node.level = levels.get(id);
      if (madeBy.has(id)) node.made_by = madeBy.get(id);
      if (notes.has(id)) node.annotations = notes.get(id);
      if (faded.has(id)) node.faded = true;
    }
    const step = firstByIndex ? firstByIndex[i] : firstStep.has(id) ? firstStep.get(id) : -1;
    if (step >= 0) node.step = step;
    out[i] = node;
  }
  return out;
}

// The object form of a view model given in either form (a parsed JSON value).
export function expandModel(raw) {
  if (!raw || raw.version === 1 || raw.version === undefined) return raw;
  if (raw.schema !== "gradviz.view" || raw.version !== 2) {
    throw new Error(`gradviz: cannot read view model schema ${raw.schema} version ${raw.version}`);
  }
  const values = raw.summaries.map(summaryObject);
  const steps = decodeSteps(raw.steps, values, raw.nodes.primitive.length);
  return {
    schema: raw.schema, version: 1, function: raw.function, argnum: raw.argnum, value: raw.value,
    budget: raw.budget,
    sites: raw.sites.map(([file, line, fn, code]) => ({ file, line, function: fn, code })),
    groups: decodeGroups(raw.groups), nodes: decodeNodes(raw.nodes, raw.primitives, values, steps), steps,
    levels: raw.levels,
  };
}
