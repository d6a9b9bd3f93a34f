// Plain-text descriptions of summaries, steps and nodes for the panels (the DOM code sets them as textContent).

import { num } from "./dot.js";

export function describeSummary(s) {
  if (!s) return "(none)";
  if (s.items) {
    return `${s.type || "container"} {` + s.items.map(([k, v]) => `${k}: ${describeSummary(v)}`).join("; ") + "}";
  }
  const bits = [s.type || "?"];
  const stats = [];
  const zero = s.norm === undefined && s.min === undefined && s.max === undefined && !s.head;
  if (zero) stats.push("all zero");
  if (s.norm !== undefined) stats.push(`norm ${num(s.norm)}`);
  if (s.min !== undefined || s.max !== undefined) stats.push(`min ${num(s.min ?? 0)} max ${num(s.max ?? 0)}`);
  if (s.mean !== undefined) stats.push(`mean ${num(s.mean)}`);
  if (s.nan) stats.push(`${s.nan} NaN`);
  if (s.inf) stats.push(`${s.inf} Inf`);
  if (stats.length) bits.push(stats.join(", "));
  if (s.head && s.head.length) bits.push(`[${s.head.map(num).join(", ")}${s.head.length >= 4 ? ", \u2026" : ""}]`);
  return bits.join("  ");
}

export function siteText(model, node) {
  if (node.site === undefined || node.site === null) return null;
  const site = model.sites[node.site];
  if (!site) return null;
  return { where: `${site.file}:${site.line} in ${site.function}`, code: site.code ?? null };
}

export function recipeText(node) {
  return `${node.primitive || node.op}(${(node.args || []).join(", ")})`;
}

export function nodeTitle(node) {
  return `%${node.id} ${node.name ? node.name + " = " : ""}${node.op}  ${node.type || ""}`.trim();
}

// Does the node match a search query: primitive, tap name, source line text, or file:line?
export function matches(model, node, query) {
  const q = query.trim().toLowerCase();
  if (!q) return false;
  const fileLine = /^(.+):(\d+)$/.exec(q);
  const site = node.site !== undefined && node.site !== null ? model.sites[node.site] : null;
  if (fileLine) {
    if (!site) return false;
    const file = String(site.file).toLowerCase();
    return site.line === Number(fileLine[2]) && (file === fileLine[1] || file.endsWith("/" + fileLine[1])
      || file.endsWith("\\" + fileLine[1]) || file.endsWith(fileLine[1]));
  }
  const fields = [node.op, node.primitive, node.name, site && site.code];
  return fields.some((f) => f !== undefined && f !== null && String(f).toLowerCase().includes(q));
}
