#!/usr/bin/env python3
"""Reads the dependency graph `cargo modules dependencies --lib` prints (DOT)
on stdin and fails when the crate's modules import each other in a loop.

Each item is attributed to the module that owns it; every "uses" edge
becomes an edge between the two modules. Two graphs are checked:
- top level: the crate root and its top-level modules (a module and its
  submodules count as one), where any loop is an error;
- every module's own children: loops among siblings are errors too.
A module importing from its own parent or child is not a loop here: a
folder module and its files are one unit.
"""
import re
import sys
from collections import defaultdict

node_re = re.compile(r'^\s*"([^"]+)" \[label="([^|"]*)\|')
edge_re = re.compile(r'^\s*"([^"]+)" -> "([^"]+)" \[label="(owns|uses)"')
kinds, owner, uses = {}, {}, []
for line in sys.stdin:
    m = edge_re.match(line)
    if m:
        a, b, kind = m.groups()
        if kind == "owns":
            owner[b] = a
        else:
            uses.append((a, b))
        continue
    m = node_re.match(line)
    if m:
        kinds[m.group(1)] = m.group(2)

def is_module(n):
    k = kinds.get(n, "")
    return k.endswith("mod") or k == "crate"

def module_of(n):
    while n in owner and not is_module(n):
        n = owner[n]
    return n

if not kinds:
    sys.exit("no graph on stdin")
root = next(n for n, k in kinds.items() if k == "crate")

def parts(m):
    return m.split("::")

def find_cycle(edges):
    graph = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    state, stack = {}, []
    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None
    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None

# Edges between siblings under each parent module (the crate root included).
by_parent = defaultdict(set)
for a, b in uses:
    ma, mb = parts(module_of(a)), parts(module_of(b))
    common = 0
    while common < min(len(ma), len(mb)) and ma[common] == mb[common]:
        common += 1
    if common == len(ma) or common == len(mb):
        continue  # a module and its own ancestor or descendant
    parent = "::".join(ma[:common])
    by_parent[parent].add(("::".join(ma[:common + 1]), "::".join(mb[:common + 1])))
# The crate root's re-exports, as edges from the root to what it names.
for a, b in uses:
    if module_of(a) == root and module_of(b) != root:
        by_parent["<root>"].add((root, "::".join(parts(module_of(b))[:2])))
    if module_of(b) == root and module_of(a) != root:
        by_parent["<root>"].add(("::".join(parts(module_of(a))[:2]), root))

modules = sorted(n for n in kinds if is_module(n))
bad = False
for parent, edges in sorted(by_parent.items()):
    cycle = find_cycle(edges)
    if cycle:
        bad = True
        print(f"import loop under {parent}: " + " -> ".join(cycle))
print(f"{len(modules)} modules, {len(uses)} uses edges, "
      f"{sum(len(e) for e in by_parent.values())} module-to-module edges: "
      + ("loops found" if bad else "no import loop"))
sys.exit(1 if bad else 0)
