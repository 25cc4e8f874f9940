"""The crate's layout keeps its promises (issue: one engine): no import cycle anywhere under src/, no clap type
outside the command-line modules, and no consumer built outside the one builder.

The import graph is read from the source: every `crate::…` and `super::…` path, grouped `use` lists, and a
parent's `use child::…` re-exports, each resolved to the module file it names (a `#[macro_export]` macro to the
file that defines it). A module's `mod child;` declaration is ownership, not an import, as cargo-modules counts
it. When cargo-modules is installed (`cargo install --locked cargo-modules@0.27.0`; too long a build to make every
fresh machine pay for it), its own graph of the crate is checked too, collapsed from items to their modules."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


def modules(src: Path = SRC) -> dict[tuple[str, ...], Path]:
    """Every module file by its path in the crate (`lib.rs` is the root, `mod.rs` names its folder)."""
    found = {}
    for path in sorted(src.rglob("*.rs")):
        parts = path.relative_to(src).with_suffix("").parts
        if parts == ("main",):
            continue
        if parts[-1] in ("mod", "lib"):
            parts = parts[:-1]
        found[tuple(parts)] = path
    return found


def without_unit_tests(text: str) -> str:
    """Drops a trailing `#[cfg(test)] mod tests`: unit tests may use anything of their own module."""
    return re.sub(r"#\[cfg\(test\)\]\s*mod tests \{.*", "", text, flags=re.S)


def references(module: tuple[str, ...], path: Path, text: str, known) -> set[tuple[str, ...]]:
    """The modules this file imports from."""
    is_parent = path.name in ("mod.rs", "lib.rs")
    children_of = list(module) if is_parent else list(module[:-1])
    parent = list(module[:-1])
    paths = set()
    for group in re.finditer(r"\b(crate|super)((?:::\w+)*)::\{([^{}]*)\}", text):
        for item in group.group(3).split(","):
            item = item.strip().split(" ")[0]
            if item:
                tail = "" if item == "self" else "::" + item
                paths.add(group.group(1) + group.group(2) + tail)
    macros = set()
    for ref in re.finditer(r"\b(crate|super)((?:::\w+)+)(!?)", text):
        if ref.group(3):
            macros.add(ref.group(2).split("::")[-1])
        else:
            paths.add(ref.group(1) + ref.group(2))
    for use in re.finditer(r"^\s*(?:pub(?:\([a-z]+\))? )?use (\w+)((?:::\w+)*)", text, flags=re.M):
        if tuple(children_of + [use.group(1)]) in known:
            paths.add("child::" + use.group(1) + use.group(2))
    targets = set()
    for ref in paths:
        parts = ref.split("::")
        if parts[0] == "crate":
            resolved = parts[1:]
        elif parts[0] == "child":
            resolved = children_of + parts[1:]
        else:
            base = list(parent)
            parts = parts[1:]
            while parts and parts[0] == "super":
                base, parts = base[:-1], parts[1:]
            resolved = base + parts
        target = longest_known(resolved, known)
        if target is not None and target != module:
            targets.add(target)
    for name in macros:
        for other, other_path in known.items():
            if other != module and re.search(r"macro_rules!\s*" + name + r"\b", other_path.read_text()):
                targets.add(other)
    return targets


def longest_known(path: list[str], known) -> tuple[str, ...] | None:
    for end in range(len(path), -1, -1):
        if tuple(path[:end]) in known:
            return tuple(path[:end])
    return None


def graph(src: Path = SRC) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
    known = modules(src)
    return {m: references(m, p, without_unit_tests(p.read_text()), known) for m, p in known.items()}


def cycles(edges) -> list[list[tuple[str, ...]]]:
    """Strongly connected components with more than one module (Tarjan's algorithm, iteratively)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(edges.get(succ, ())))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def name(module: tuple[str, ...]) -> str:
    return "::".join(module) or "crate"


def test_no_import_cycle_under_src():
    found = cycles(graph())
    assert not found, "import cycles: " + "; ".join(" ↔ ".join(sorted(map(name, c))) for c in found)


def cargo_modules_graph(dot: str) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
    """Module-level "uses" edges from cargo-modules' item graph: each item is folded into the module file that
    holds it (a method into its type's, a unit test module into its parent's)."""
    known = modules()

    def module_of(node: str) -> tuple[str, ...] | None:
        return longest_known(node.split("::")[1:], known)

    edges: dict[tuple[str, ...], set[tuple[str, ...]]] = {m: set() for m in known}
    for source, target in re.findall(r'^\s*"([^"]+)" -> "([^"]+)" \[label="uses"', dot, flags=re.M):
        a, b = module_of(source), module_of(target)
        if a is not None and b is not None and a != b:
            edges[a].add(b)
    return edges


@pytest.mark.skipif(shutil.which("cargo-modules") is None, reason="cargo-modules is not installed (cargo install --locked cargo-modules@0.27.0)")
def test_cargo_modules_sees_no_import_cycle_either():
    dot = subprocess.run(
        ["cargo", "modules", "dependencies", "--lib", "--no-externs", "--no-sysroot", "--no-owns"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    edges = cargo_modules_graph(dot)
    assert len(edges) > 20, "the graph was read"
    found = cycles(edges)
    assert not found, "import cycles (cargo-modules): " + "; ".join(" ↔ ".join(sorted(map(name, c))) for c in found)


def test_the_cycle_finder_finds_a_cycle_and_a_parent_child_one(tmp_path):
    """The other side: the checker is not blind. Two siblings importing each other, and a parent that
    re-exports a child which imports the parent, are both cycles; a one-way import is not."""
    (tmp_path / "lib.rs").write_text("pub mod a;\npub mod b;\npub mod c;\npub mod room;\n")
    (tmp_path / "a.rs").write_text("use crate::b::Thing;\n")
    (tmp_path / "b.rs").write_text("pub struct Thing;\nfn f() { crate::a::g(); }\n")
    (tmp_path / "c.rs").write_text("use crate::a;\n")
    (tmp_path / "room").mkdir()
    (tmp_path / "room" / "mod.rs").write_text("mod inner;\npub use inner::X;\npub struct Y;\n")
    (tmp_path / "room" / "inner.rs").write_text("use super::Y;\npub struct X;\n")
    found = sorted(sorted(map(name, c)) for c in cycles(graph(tmp_path)))
    assert found == [["a", "b"], ["room", "room::inner"]]


def rust_files_outside(*rooms: str):
    for path in sorted(SRC.rglob("*.rs")):
        relative = path.relative_to(SRC).as_posix()
        if not any(relative == room or relative.startswith(room + "/") for room in rooms):
            yield relative, without_unit_tests(path.read_text())


def test_no_clap_type_outside_the_command_line_modules():
    clap = re.compile(r"\bclap(_complete|_mangen)?::|\bValueEnum\b|#\[derive\([^)]*\b(Args|Parser|Subcommand)\b")
    leaks = [relative for relative, text in rust_files_outside("cli", "main.rs") if clap.search(text)]
    assert leaks == [], f"clap types outside src/cli/: {leaks}"
    assert clap.search((SRC / "cli" / "args.rs").read_text()), "the pattern finds clap where it is"


def test_a_consumer_is_built_only_by_the_one_builder():
    literal = re.compile(r"(?<!struct )(?<!impl )\bConsumer\s*\{")
    builders = [relative for relative, text in rust_files_outside() if literal.search(text)]
    assert builders == ["plan/consumer.rs"], f"a Consumer {{ … }} outside the builder: {builders}"
