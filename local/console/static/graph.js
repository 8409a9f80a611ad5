// The state machine as SVG: laid out by dagre (vendored), drawn here. Every state is a
// focusable button; what the execution did shows as a colour, a pattern and words.

import dagre from './vendor/dagre.esm.js';
import { STATE_STATUS, svg } from './util.js';

const START = '__start__';
const END = '__end__';
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const NAME_FONT = `600 13px ${FONT}`;
const SMALL_FONT = `11px ${FONT}`;
const LINE_HEIGHT = 16;
const PADDING_X = 10;
const PADDING_Y = 8;

let measuring = null;
function textWidth(text, font) {
  measuring = measuring || document.createElement('canvas').getContext('2d');
  measuring.font = font;
  return measuring.measureText(text).width;
}

// The words under a state's name: its status, with what makes it so.
export function statusLine(node) {
  const known = STATE_STATUS[node.status] || { glyph: '?', text: node.status };
  let line = `${known.glyph} ${known.text}`;
  if (node.status === 'retried') line += ` · ${node.attempts} attempts`;
  if (node.status === 'caught' && node.errors.length) line += ` · ${node.errors.at(-1)}`;
  if (node.status === 'failed' && node.errors.length) line += ` · ${node.errors.at(-1)}`;
  if (node.status === 'running' && node.attempts > 1) line += ` · attempt ${node.attempts}`;
  if (node.visits > 1) line += ` · ${node.visits} visits`;
  return line;
}

function nodeLines(node) {
  if (node.id === START) return [{ text: 'Start', font: NAME_FONT }];
  if (node.id === END) return [{ text: 'End', font: NAME_FONT }];
  const kind = node.resource ? `${node.type} · ${node.resource}` : node.type;
  return [
    { text: node.id, font: NAME_FONT, class: 'name' },
    { text: kind, font: SMALL_FONT, class: 'kind' },
    { text: statusLine(node), font: SMALL_FONT, class: 'status' },
  ];
}

const LABEL_FONT = `10.5px ${FONT}`;
const LABEL_LINE = 13;
const LABEL_CHARS = 24;

// An edge's label in lines of at most about LABEL_CHARS, broken at spaces and dots.
function labelLines(edge) {
  if (!edge.label) return [];
  const words = edge.label.split(/(?<=[ .])/);
  const lines = [''];
  for (const word of words) {
    const current = lines.at(-1);
    if (current && (current + word).trimEnd().length > LABEL_CHARS) lines.push(word.trimStart());
    else lines[lines.length - 1] = current + word;
  }
  return lines.map((l) => l.trim()).filter(Boolean);
}

// d3's curveBasis: a smooth path through dagre's bend points, ending on the last one.
function basisPath(points) {
  if (points.length < 3) return `M${points.map((p) => `${p.x},${p.y}`).join('L')}`;
  let d = `M${points[0].x},${points[0].y}`;
  const bezier = (a, b, c) =>
    `C${(2 * a.x + b.x) / 3},${(2 * a.y + b.y) / 3},${(a.x + 2 * b.x) / 3},${(a.y + 2 * b.y) / 3},` +
    `${(a.x + 4 * b.x + c.x) / 6},${(a.y + 4 * b.y + c.y) / 6}`;
  d += `L${(5 * points[0].x + points[1].x) / 6},${(5 * points[0].y + points[1].y) / 6}`;
  for (let i = 2; i < points.length; i++) d += bezier(points[i - 2], points[i - 1], points[i]);
  const [a, b] = points.slice(-2);
  d += bezier(a, b, b);
  return `${d}L${b.x},${b.y}`;
}

function defs() {
  const marker = (id) =>
    svg(
      'marker',
      {
        id,
        viewBox: '0 0 10 10',
        refX: 9,
        refY: 5,
        markerWidth: 8,
        markerHeight: 8,
        orient: 'auto-start-reverse',
        markerUnits: 'userSpaceOnUse',
      },
      svg('path', { d: 'M0,0L10,5L0,10z', class: `arrow ${id}` }),
    );
  const hatch = (id, cross) =>
    svg(
      'pattern',
      {
        id,
        width: 8,
        height: 8,
        patternUnits: 'userSpaceOnUse',
        patternTransform: 'rotate(45)',
      },
      svg('rect', { width: 8, height: 8, class: `${id}-ground` }),
      svg('line', { x1: 0, y1: 0, x2: 0, y2: 8, class: `${id}-line` }),
      cross ? svg('line', { x1: 0, y1: 4, x2: 8, y2: 4, class: `${id}-line` }) : null,
    );
  return svg(
    'defs',
    {},
    marker('arrow-taken'),
    marker('arrow-idle'),
    marker('arrow-catch'),
    hatch('hatch-caught', false),
    hatch('hatch-failed', true),
  );
}

// Draws `graph` ({nodes, edges} from /_local/api/executions/{id}) into `container`.
// onSelect(stateId) is called on click, Enter or Space. Returns {select(id)}.
export function drawGraph(container, graph, onSelect) {
  const layout = new dagre.graphlib.Graph({ multigraph: true });
  layout.setGraph({ rankdir: 'TB', nodesep: 16, ranksep: 36, edgesep: 10, marginx: 8, marginy: 8 });
  const lines = new Map();
  for (const node of graph.nodes) {
    const nodeText = nodeLines(node);
    lines.set(node.id, nodeText);
    const width = Math.max(...nodeText.map((l) => textWidth(l.text, l.font))) + 2 * PADDING_X;
    layout.setNode(node.id, {
      width: Math.max(node.id === START || node.id === END ? 64 : 120, Math.ceil(width)),
      height: nodeText.length * LINE_HEIGHT + 2 * PADDING_Y,
    });
  }
  for (const edge of graph.edges) {
    const label = labelLines(edge);
    layout.setEdge(
      edge.from,
      edge.to,
      label.length
        ? {
            width: Math.ceil(Math.max(...label.map((l) => textWidth(l, LABEL_FONT)))) + 8,
            height: label.length * LABEL_LINE + 2,
            labelpos: 'c',
          }
        : {},
      edge.id,
    );
  }
  dagre.layout(layout);
  const { width, height } = layout.graph();

  const edgeLayer = svg('g', { class: 'edges' });
  const labelLayer = svg('g', { class: 'edge-labels' });
  // Taken edges last, so that they are drawn over the others.
  const ordered = [...graph.edges].sort((a, b) => Number(a.taken) - Number(b.taken));
  for (const edge of ordered) {
    const placed = layout.edge({ v: edge.from, w: edge.to, name: edge.id });
    const marker = edge.taken ? 'arrow-taken' : edge.kind === 'catch' ? 'arrow-catch' : 'arrow-idle';
    const classes = `edge kind-${edge.kind} ${edge.taken ? 'taken' : 'idle'}`;
    edgeLayer.append(
      svg(
        'path',
        {
          d: basisPath(placed.points),
          class: classes,
          'data-from': edge.from,
          'data-to': edge.to,
          'marker-end': `url(#${marker})`,
        },
        svg('title', {}, `${edge.from} → ${edge.to}${edge.label ? ` (${edge.label})` : ''}` +
          `${edge.taken ? ': taken' : ''}`),
      ),
    );
    const label = labelLines(edge);
    if (label.length) {
      const w = placed.width;
      const h = placed.height;
      labelLayer.append(
        svg(
          'g',
          { class: `edge-label kind-${edge.kind} ${edge.taken ? 'taken' : 'idle'}` },
          svg('rect', { x: placed.x - w / 2, y: placed.y - h / 2, width: w, height: h, rx: 3 }),
          label.map((line, index) =>
            svg(
              'text',
              { x: placed.x, y: placed.y - h / 2 + (index + 1) * LABEL_LINE - 2, 'text-anchor': 'middle' },
              line,
            ),
          ),
        ),
      );
    }
  }

  const nodeLayer = svg('g', { class: 'nodes' });
  const elements = new Map();
  for (const node of graph.nodes) {
    const box = layout.node(node.id);
    const terminal = node.id === START || node.id === END;
    const x = box.x - box.width / 2;
    const y = box.y - box.height / 2;
    const known = STATE_STATUS[node.status] || { text: node.status };
    const description = terminal
      ? `${node.id === START ? 'Start' : 'End'}, ${known.text}`
      : `${node.id}, ${node.type} state${node.function ? ` invoking ${node.function}` : ''}, ` +
        statusLine(node).slice(2);
    const group = svg(
      'g',
      {
        class: `node status-${node.status} type-${node.type}${terminal ? ' terminal' : ''}`,
        'data-state': node.id,
        'data-status': node.status,
        tabindex: 0,
        role: 'button',
        'aria-pressed': 'false',
        'aria-label': description,
      },
      svg('title', {}, node.comment ? `${description}\n${node.comment}` : description),
      svg('rect', {
        class: 'box',
        x,
        y,
        width: box.width,
        height: box.height,
        rx: terminal ? box.height / 2 : 6,
      }),
    );
    lines.get(node.id).forEach((line, index) => {
      group.append(
        svg(
          'text',
          {
            class: line.class || 'name',
            x: box.x,
            y: y + PADDING_Y + (index + 1) * LINE_HEIGHT - 4,
            'text-anchor': 'middle',
          },
          line.text,
        ),
      );
    });
    const choose = () => onSelect(node.id);
    group.addEventListener('click', choose);
    group.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        choose();
      }
    });
    elements.set(node.id, group);
    nodeLayer.append(group);
  }

  const drawing = svg(
    'svg',
    {
      class: 'graph',
      viewBox: `0 0 ${Math.ceil(width)} ${Math.ceil(height)}`,
      width: Math.ceil(width),
      height: Math.ceil(height),
      role: 'group',
      'aria-label': 'State machine: states marked by what this execution did',
    },
    defs(),
    edgeLayer,
    labelLayer,
    nodeLayer,
  );
  container.replaceChildren(drawing);
  return {
    select(id) {
      for (const [name, group] of elements) {
        const selected = name === id;
        group.classList.toggle('selected', selected);
        group.setAttribute('aria-pressed', String(selected));
      }
    },
    focus(id) {
      elements.get(id)?.focus();
    },
  };
}
