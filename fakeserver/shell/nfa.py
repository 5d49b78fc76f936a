"""A matcher for grep's parsed patterns whose cost is bounded: no pattern can freeze the server.

Python's ``re`` backtracks, so ``\\(a*\\)*b`` on a long line of ``a`` takes exponential time (while the
server holds its state lock). Here a pattern is compiled into a Thompson NFA program and run by
simulating every thread at once (Pike's VM without captures): time linear in line length times program
size. Back references cannot be simulated that way; a pattern with them runs on a backtracking VM that
prunes repeated states. Both count their steps against one budget per grep command, and running out
raises :class:`BudgetExceeded` (which grep reports) instead of running on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_PROGRAM",
    "MAX_STEPS",
    "Budget",
    "BudgetExceeded",
    "Node",
    "Program",
    "ProgramTooBig",
    "compile_pattern",
]

#: Instructions a compiled pattern may have (``\{m,n\}`` copies its operand, so programs can grow).
MAX_PROGRAM = 100_000
#: Steps one grep command may take over all its lines (one step: one instruction visited for one byte;
#: about a second of CPU).
MAX_STEPS = 5_000_000
#: What one step of the backtracking VM costs: it allocates and remembers a state, the simulation does not.
BACKTRACK_COST = 25

_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")

# Parse tree nodes (built by grep's BRE parser): tuples whose first item names the kind.
#   ("set", frozenset[int])                one byte from the set
#   ("assert", kind)                       bol eol word_start word_end boundary not_boundary
#   ("cat", list[Node]) / ("alt", list[Node])
#   ("group", number, Node)                a numbered ``\(...\)``
#   ("repeat", Node, low, high | None)
#   ("backref", number)
Node = tuple

# Opcodes of the program.
_CHAR, _SPLIT, _JMP, _ASSERT, _SAVE, _BACKREF, _MATCH = range(7)
#: (opcode, operand: a byte set, jump target, assertion kind or slot/group number, second jump target).
Instruction = tuple[int, Any, int]


class ProgramTooBig(Exception):
    """The compiled pattern has more than :data:`MAX_PROGRAM` instructions."""


class BudgetExceeded(Exception):
    """A grep command used up its :data:`MAX_STEPS` steps."""


@dataclass
class Budget:
    """Steps left for one grep command, shared by all its patterns, files and lines."""

    left: int = MAX_STEPS

    def spend(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0:
            raise BudgetExceeded(f"more than {MAX_STEPS} matching steps")


@dataclass(frozen=True)
class Program:
    """A compiled pattern; :meth:`search` says whether it matches somewhere in a line."""

    code: tuple[Instruction, ...]
    backrefs: bool
    icase: bool
    #: Capture slots (two per group) the backtracking VM keeps.
    slots: int = 0

    def search(self, line: bytes, budget: Budget) -> bool:
        if self.backrefs:
            return _backtrack_search(self.code, line, budget, self.icase, self.slots)
        return _pike_search(self.code, line, budget)


def compile_pattern(node: Node, icase: bool, max_program: int = MAX_PROGRAM) -> Program:
    """Compile a parse tree into a program (``icase``: back references compare ASCII case-insensitively)."""
    code: list[list] = []
    backrefs = False
    slots = 0

    def emit(op: int, arg: object = None, target: int = 0) -> int:
        if len(code) >= max_program:
            raise ProgramTooBig(f"more than {max_program} instructions")
        code.append([op, arg, target])
        return len(code) - 1

    def gen(item: Node) -> None:
        nonlocal backrefs, slots
        kind = item[0]
        if kind == "set":
            emit(_CHAR, item[1])
        elif kind == "assert":
            emit(_ASSERT, item[1])
        elif kind == "cat":
            for part in item[1]:
                gen(part)
        elif kind == "alt":
            jumps = []
            branches = item[1]
            for index, branch in enumerate(branches):
                if index < len(branches) - 1:
                    split = emit(_SPLIT, len(code) + 1)
                    gen(branch)
                    jumps.append(emit(_JMP))
                    code[split][2] = len(code)
                else:
                    gen(branch)
            for jump in jumps:
                code[jump][1] = len(code)
        elif kind == "group":
            slots = max(slots, 2 * item[1] + 2)
            emit(_SAVE, 2 * item[1])
            gen(item[2])
            emit(_SAVE, 2 * item[1] + 1)
        elif kind == "backref":
            backrefs = True
            emit(_BACKREF, item[1])
        elif kind == "repeat":
            _, body, low, high = item
            for _ in range(low):
                gen(body)
            if high is None:
                loop = emit(_SPLIT, len(code) + 1)
                gen(body)
                emit(_JMP, loop)
                code[loop][2] = len(code)
            else:
                splits = []
                for _ in range(high - low):
                    splits.append(emit(_SPLIT, len(code) + 1))
                    gen(body)
                for split in splits:
                    code[split][2] = len(code)
        else:  # pragma: no cover - the parser builds only the kinds above
            raise AssertionError(f"unknown node {kind!r}")

    gen(node)
    emit(_MATCH)
    return Program(tuple((op, arg, target) for op, arg, target in code), backrefs, icase, slots)


def _assertion(kind: object, line: bytes, pos: int) -> bool:
    before = pos > 0 and line[pos - 1] in _WORD
    after = pos < len(line) and line[pos] in _WORD
    if kind == "bol":
        return pos == 0
    if kind == "eol":
        return pos == len(line)
    if kind == "word_start":
        return after and not before
    if kind == "word_end":
        return before and not after
    if kind == "boundary":
        return before != after
    return before == after  # not_boundary


def _pike_search(code: tuple[Instruction, ...], line: bytes, budget: Budget) -> bool:
    """Thompson simulation: the set of live threads advances one byte at a time, each state once."""
    size = len(line)
    current: list[int] = []
    for pos in range(size + 1):
        seen: set[int] = set()
        ready: list[int] = []
        stack = [*reversed(current), 0]  # old threads, plus a new one starting here (unanchored search)
        steps = 0
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            steps += 1
            op, arg, target = code[pc]
            if op == _CHAR:
                ready.append(pc)
            elif op == _MATCH:
                budget.spend(steps)
                return True
            elif op == _SPLIT:
                stack.append(target)
                stack.append(arg)
            elif op == _JMP:
                stack.append(arg)
            elif op == _ASSERT:
                if _assertion(arg, line, pos):
                    stack.append(pc + 1)
            else:  # _SAVE: captures do not matter for whether a line matches
                stack.append(pc + 1)
        budget.spend(steps + len(ready))
        if pos == size:
            break
        byte = line[pos]
        current = [pc + 1 for pc in ready if byte in code[pc][1]]
    return False


def _backtrack_search(code: tuple[Instruction, ...], line: bytes, budget: Budget, icase: bool, slots: int) -> bool:
    """Depth-first search with captures, for back references; a state seen before is not tried again."""
    size = len(line)
    folded = line.lower() if icase else line
    for start in range(size + 1):
        seen: set[tuple[int, int, tuple[int, ...]]] = set()
        stack: list[tuple[int, int, tuple[int, ...]]] = [(0, start, (-1,) * slots)]
        steps = 0
        while stack:
            steps += BACKTRACK_COST
            if steps >= 4096:
                budget.spend(steps)
                steps = 0
            state = stack.pop()
            if state in seen:
                continue
            seen.add(state)
            pc, pos, caps = state
            op, arg, target = code[pc]
            if op == _CHAR:
                if pos < size and line[pos] in arg:
                    stack.append((pc + 1, pos + 1, caps))
            elif op == _MATCH:
                budget.spend(steps)
                return True
            elif op == _SPLIT:
                stack.append((target, pos, caps))
                stack.append((arg, pos, caps))
            elif op == _JMP:
                stack.append((arg, pos, caps))
            elif op == _ASSERT:
                if _assertion(arg, line, pos):
                    stack.append((pc + 1, pos, caps))
            elif op == _SAVE:
                stack.append((pc + 1, pos, (*caps[:arg], pos, *caps[arg + 1 :])))
            else:  # _BACKREF
                begin, end = caps[2 * arg], caps[2 * arg + 1]
                if begin < 0 or end < begin:
                    continue  # the group took no part in the match: Python's re fails here too
                length = end - begin
                if folded[pos : pos + length] == folded[begin:end]:
                    stack.append((pc + 1, pos + length, caps))
        budget.spend(steps)
    return False
