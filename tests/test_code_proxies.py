"""Test code that builds the program's own objects, judged across the bridge through handles (sandboxes/python/worker.py).

The judge process runs the dataset's test code; the program runs in its own process. A name the test uses that only the
program defines (its class ``Node``) is bound in the judge to a RemoteObject: calling it builds the object in the
program's process, attribute reads and writes go there too, and the judge holds only a handle number, equal only to
itself. Built-in types (``int`` as an argument) cross by name.

Data: the four problems of the full MBPP whose tests need this (367, 533, 601, 927), copied from google-research's
mbpp/mbpp.jsonl (CC BY 4.0, https://github.com/google-research/google-research/tree/master/mbpp) as
Md-Ashraful-Pramanik/MapCoder's data/MBPPEval/MBPP.jsonl ships it: each row's reference ``code``, ``test_setup_code``
and ``test_list``, verbatim (``\\r\\n`` and trailing blanks included). The references are built by rlvr's own ``mbpp`` task.

Then attacks on the handles (each ``wrong``, never ``error``, and never a pass the official harness would not give
without the program's own ``__eq__``): the program's ``__eq__``/``__hash__``/``__bool__``/``__getattr__``/``__del__``,
forged handles and type tags, a deep ``__repr__``, more objects than the handle table holds, a constructor that forks
or hangs, metaclasses, ``__class__`` spoofing, a program class named ``int``, a program's ``sorted``. The unit tests at
the end need no Docker; the rest need a Docker daemon and the sandbox image.
"""

from __future__ import annotations

import json
import textwrap
import time

import pytest

from environments.code import MBPP
from rlvr import sandbox
from rlvr.verifiers.code import CodeVerifier
from sandboxes.python import worker
from tests.conftest import require_sandbox

# ------------------------------------------------------------------------------------------------ MBPP rows (CC BY 4.0)

NODE_CODE = "class Node: \r\n\tdef __init__(self, data): \r\n\t\tself.data = data \r\n\t\tself.left = None\r\n\t\tself.right = None\r\n"
MBPP_ROWS = {
    367: {
        "code": NODE_CODE
        + "def get_height(root): \r\n\tif root is None: \r\n\t\treturn 0\r\n\treturn max(get_height(root.left), "
        "get_height(root.right)) + 1\r\ndef is_tree_balanced(root): \r\n\tif root is None: \r\n\t\treturn True\r\n\tlh = "
        "get_height(root.left) \r\n\trh = get_height(root.right) \r\n\tif (abs(lh - rh) <= 1) and is_tree_balanced( \r\n\t"
        "root.left) is True and is_tree_balanced( root.right) is True: \r\n\t\treturn True\r\n\treturn False",
        "test_setup_code": "root = Node(1) \r\nroot.left = Node(2) \r\nroot.right = Node(3) \r\nroot.left.left = Node(4) \r\n"
        "root.left.right = Node(5) \r\nroot.left.left.left = Node(8) \r\nroot1 = Node(1) \r\nroot1.left = Node(2) \r\n"
        "root1.right = Node(3) \r\nroot1.left.left = Node(4) \r\nroot1.left.right = Node(5) \r\nroot1.right.left = Node(6) "
        "\r\nroot1.left.left.left = Node(7)\r\nroot2 = Node(1) \r\nroot2.left = Node(2) \r\nroot2.right = Node(3) \r\n"
        "root2.left.left = Node(4) \r\nroot2.left.right = Node(5)\r\nroot2.left.left.left = Node(7)",
        "test_list": [
            "assert is_tree_balanced(root) == False",
            "assert is_tree_balanced(root1) == True",
            "assert is_tree_balanced(root2) == False ",
        ],
    },
    533: {
        "code": "def remove_datatype(test_tuple, data_type):\r\n  res = []\r\n  for ele in test_tuple:\r\n    if not "
        "isinstance(ele, data_type):\r\n      res.append(ele)\r\n  return (res) ",
        "test_setup_code": "",
        "test_list": [
            "assert remove_datatype((4, 5, 4, 7.7, 1.2), int) == [7.7, 1.2]",
            'assert remove_datatype((7, 8, 9, "SR"), str) == [7, 8, 9]',
            "assert remove_datatype((7, 1.1, 2, 2.2), float) == [7, 2]",
        ],
    },
    601: {
        "code": "class Pair(object): \r\n\tdef __init__(self, a, b): \r\n\t\tself.a = a \r\n\t\tself.b = b \r\ndef "
        "max_chain_length(arr, n): \r\n\tmax = 0\r\n\tmcl = [1 for i in range(n)] \r\n\tfor i in range(1, n): \r\n\t\tfor j "
        "in range(0, i): \r\n\t\t\tif (arr[i].a > arr[j].b and\r\n\t\t\t\tmcl[i] < mcl[j] + 1): \r\n\t\t\t\tmcl[i] = "
        "mcl[j] + 1\r\n\tfor i in range(n): \r\n\t\tif (max < mcl[i]): \r\n\t\t\tmax = mcl[i] \r\n\treturn max",
        "test_setup_code": "",
        "test_list": [
            "assert max_chain_length([Pair(5, 24), Pair(15, 25),Pair(27, 40), Pair(50, 60)], 4) == 3",
            "assert max_chain_length([Pair(1, 2), Pair(3, 4),Pair(5, 6), Pair(7, 8)], 4) == 4",
            "assert max_chain_length([Pair(19, 10), Pair(11, 12),Pair(13, 14), Pair(15, 16), Pair(31, 54)], 5) == 5",
        ],
    },
    927: {
        "code": NODE_CODE
        + "def max_height(node): \r\n\tif node is None: \r\n\t\treturn 0 ; \r\n\telse : \r\n\t\tleft_height "
        "= max_height(node.left) \r\n\t\tright_height = max_height(node.right) \r\n\t\tif (left_height > right_height): "
        "\r\n\t\t\treturn left_height+1\r\n\t\telse: \r\n\t\t\treturn right_height+1",
        "test_setup_code": "root = Node(1) \r\nroot.left = Node(2) \r\nroot.right = Node(3) \r\nroot.left.left = Node(4) \r\n"
        "root.left.right = Node(5) \r\nroot1 = Node(1);  \r\nroot1.left = Node(2);  \r\nroot1.right = Node(3);  \r\n"
        "root1.left.left = Node(4);  \r\nroot1.right.left = Node(5);  \r\nroot1.right.right = Node(6);  \r\n"
        "root1.right.right.right= Node(7);  \r\nroot1.right.right.right.right = Node(8)\r\nroot2 = Node(1) \r\n"
        "root2.left = Node(2) \r\nroot2.right = Node(3) \r\nroot2.left.left = Node(4) \r\nroot2.left.right = Node(5)\r\n"
        "root2.left.left.left = Node(6)\r\nroot2.left.left.right = Node(7)",
        "test_list": [
            "assert (max_height(root)) == 3",
            "assert (max_height(root1)) == 5 ",
            "assert (max_height(root2)) == 4",
        ],
    },
}

# Wrong programs written here: each keeps the row's classes and gets at least one of its asserts wrong.
WRONG_BODIES = {
    367: "\n\ndef is_tree_balanced(root):\n    return True\n",  # a tree is always balanced
    533: "\n\ndef remove_datatype(t, data_type):\n    return [e for e in t if isinstance(e, data_type)]\n",  # keeps them
    601: "\n\ndef max_chain_length(arr, n):\n    return n\n",  # every pair chains
    927: "\n\ndef max_height(node):\n    return 0 if node is None else 1 + max_height(node.left)\n",  # left spine only
}


def mbpp_reference(task_id: int) -> dict:
    return MBPP().tests({"task_id": task_id, "challenge_test_list": [], **MBPP_ROWS[task_id]})


@pytest.fixture(scope="module")
def v():
    require_sandbox()
    verifier = CodeVerifier(time_limit=4.0, containers=1)
    verifier.concurrency()
    yield verifier
    sandbox.close_all()


def grade(v: CodeVerifier, program: str, reference: dict):
    return v(f"```python\n{program}\n```", reference)


def assert_wrong(verdict) -> None:
    assert verdict.status == "wrong" and verdict.reward == 0.0, verdict


def assert_correct(verdict) -> None:
    assert verdict.status == "correct" and verdict.reward == 1.0, verdict


@pytest.mark.docker
@pytest.mark.parametrize("task_id", sorted(MBPP_ROWS))
def test_mbpp_rows_that_build_the_programs_objects(v, task_id):
    ref = mbpp_reference(task_id)
    code = MBPP_ROWS[task_id]["code"].replace("\r\n", "\n")
    assert_correct(grade(v, code, ref))
    assert_wrong(grade(v, code + WRONG_BODIES[task_id], ref))
    assert_wrong(grade(v, code + f"\n\ndef {ref['entry_point']}(*args, **kwargs):\n    return None\n", ref))


@pytest.mark.docker
@pytest.mark.parametrize("task_id", [367, 601, 927])
def test_a_program_without_the_class_the_test_builds_fails(v, task_id):
    """The test builds ``Node`` (``Pair``), which this program does not define: the official harness fails it with a
    NameError, and so does the mbpp task's reference (a guard names the class: ``wrong``, not a refused reference)."""
    ref = mbpp_reference(task_id)
    verdict = grade(v, f"def {ref['entry_point']}(*args):\n    return 3\n", ref)
    assert_wrong(verdict)
    assert "the program defines no" in verdict.detail, verdict
    renamed = MBPP_ROWS[task_id]["code"].replace("\r\n", "\n").replace("class Node", "class TreeNode")
    assert_wrong(grade(v, renamed.replace("class Pair", "class Couple"), ref))  # the model named its class otherwise


# ------------------------------------------------------------------------------------------------- what crosses, how


def ref(test_code: str, entry: str = "f") -> dict:
    return {"test_code": textwrap.dedent(test_code), "entry_point": entry}


POINT = """
class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y
    def __str__(self):
        return f"({self.x}, {self.y})"
    def norm1(self):
        return abs(self.x) + abs(self.y)
"""


@pytest.mark.docker
def test_objects_methods_identity_and_helpers(v):
    test = ref(
        """
        p = Point(1, -2)
        assert f(p) is p and f(p) == p and p != Point(1, -2)  # identity crosses; equality is identity
        assert p.norm1() == 3 and str(p) == "(1, -2)" and p.x == 1
        p.x = 5
        assert p.x == 5 and f(p).x == 5 and scale(p, 2).y == -4  # a helper of the program's, not the entry point
        assert hasattr(p, "y") and not hasattr(p, "z")
        assert isinstance(p, Point) and not isinstance(3, Point) and issubclass(Point, Point)
        assert {p: 1}[p] == 1 and len({p, f(p)}) == 1
        """
    )
    program = POINT + "def f(p):\n    return p\ndef scale(p, k):\n    return Point(p.x * k, p.y * k)\n"
    assert_correct(grade(v, program, test))
    assert_wrong(grade(v, program.replace("return p\n", "return Point(p.x, p.y)\n"), test))  # a copy is not p


@pytest.mark.docker
def test_iterators_containers_and_types(v):
    test = ref(
        """
        assert list(f(3)) == [0, 1, 2] and sum(f(4)) == 6
        b = Bag([1, 2])
        assert len(b) == 2 and 2 in b and 3 not in b and b[1] == 2
        b[1] = 7
        assert b[1] == 7 and kinds([1, "a", 2.0], int) == [1] and kinds((1, "a"), str) == ["a"]
        assert kinds([None, 1], type(None)) == [None] and f is not None
        """
    )
    program = """
def f(n):
    yield from range(n)
class Bag:
    def __init__(self, items):
        self.items = list(items)
    def __len__(self):
        return len(self.items)
    def __contains__(self, x):
        return x in self.items
    def __getitem__(self, i):
        return self.items[i]
    def __setitem__(self, i, v):
        self.items[i] = v
def kinds(xs, t):
    return [x for x in xs if type(x) is t]
"""
    assert_correct(grade(v, program, test))
    assert_wrong(grade(v, program.replace("yield from range(n)", "yield from range(n - 1)"), test))


@pytest.mark.docker
def test_the_tests_own_check_is_called_not_a_programs(v):
    """MBPP test code that calls a program helper named ``check``: the judge must not take it for HumanEval's."""
    test = ref("assert check(2) == 4\nassert f(1) == 1\n")
    assert_correct(grade(v, "def check(x):\n    return x * 2\ndef f(x):\n    return x\n", test))


@pytest.mark.docker
def test_a_big_program_global_the_test_rebinds_is_not_a_failure(v):
    """The test binds ``data`` itself; the program's 4 MB ``data`` (over the result cap) must not fail the row."""
    test = ref("data = [3, 1, 2]\nassert f(data) == [1, 2, 3]\n")
    assert_correct(grade(v, "data = list(range(500_000))\ndef f(x):\n    return sorted(x)\n", test))


# ------------------------------------------------------------------------------------------------------------ attacks


@pytest.mark.docker
@pytest.mark.parametrize(
    "program",
    [
        # an object equal to everything, hashed like 3: official `f(1) == 3` would pass; here it is another object
        "class E:\n    def __eq__(self, o):\n        return True\n    def __hash__(self):\n        return hash(3)\n"
        "def f(x):\n    return E()\n",
        # __class__ spoofing and an int subclass equal to everything
        "class E:\n    __class__ = property(lambda self: int)\ndef f(x):\n    return E()\n",
        "class E(int):\n    def __eq__(self, o):\n        return True\n    __hash__ = int.__hash__\n"
        "def f(x):\n    return E(9)\n",
        # a metaclass whose instances claim to be ints
        "class M(type):\n    def __instancecheck__(cls, o):\n        return True\n    def __eq__(cls, o):\n        return True\n"
        "    __hash__ = type.__hash__\nclass E(metaclass=M):\n    pass\ndef f(x):\n    return E()\n",
    ],
    ids=["eq-hash", "class-spoof", "int-subclass", "metaclass"],
)
def test_the_programs_equality_never_runs_in_the_judge(v, program):
    test = ref("assert f(1) == 3\nassert 3 == f(1)\nassert f(1) in [3]\nassert {3: 'x'}.get(f(1)) == 'x'\n")
    assert_wrong(grade(v, program, test))
    assert_correct(grade(v, "def f(x):\n    return 3\n", test))


@pytest.mark.docker
def test_equal_and_hashed_alike_program_objects_stay_distinct_in_the_judge(v):
    program = (
        "class Node:\n    def __init__(self, d):\n        self.d = d\n    def __eq__(self, o):\n        return True\n"
    )
    program += "    def __hash__(self):\n        return 0\ndef f(n):\n    return n.d\n"
    test = ref("a, b = Node(1), Node(1)\nassert a != b and len({a, b}) == 2 and f(a) == 1\n")
    assert_correct(grade(v, program, test))


RAW = "import os, struct\ndef raw(body):\n    os.write(4, struct.pack('>I', len(body)) + body)\n"


@pytest.mark.docker
@pytest.mark.parametrize(
    "reply",
    [
        b'R{"$obj": [99, "Node"]}',  # a handle never given
        b'R{"$obj": [0, "Node"]}',
        b'R{"$obj": ["1", "Node"]}',
        b'R{"$obj": [1]}',
        b'R{"$type": "eval"}',  # only the closed list of built-in types crosses by name
        b'R{"$type": "type"}',
        b'R{"$obj": [1, "Node"], "$int": "3"}',
        b"N[]",  # a second hello where a reply belongs
        b'X{"raise": "NameError", "message": "pretend the reference is broken"}',
        b'X{"raise": "SystemExit"}',
        b"Rtrue",  # what a bool would answer, but to a call that the test compares with 3
        b'R{"$Counter": [[[1], 2]]}',  # unhashable members: the judge cannot build it
        b'R{"$frozenset": [[1]]}',
    ],
)
def test_forged_replies_are_wrong(v, reply):
    program = RAW + f"def f(x):\n    raw({reply!r})\n    import time\n    time.sleep(3)\n"
    test = ref("assert f(1) == 3\n")
    assert_wrong(grade(v, program, test))


@pytest.mark.docker
@pytest.mark.parametrize(
    "reply",
    [b"R1", b'R"yes"', b'R{"$obj": [2, "B"]}', b"X{}", b"Znope"],
)
def test_a_truth_test_takes_only_a_bool(v, reply):
    """``assert f(1)``: the judge asks the program's object for its truth; only a JSON bool is an answer."""
    program = RAW + f"class B:\n    def __bool__(self):\n        raw({reply!r})\n        import time\n"
    program += "        time.sleep(3)\n        return True\ndef f(x):\n    return B()\n"
    assert_wrong(grade(v, program, ref("assert f(1)\n")))
    assert_correct(grade(v, "class B:\n    pass\ndef f(x):\n    return B()\n", ref("assert f(1)\n")))


@pytest.mark.docker
def test_a_del_that_writes_on_the_reply_pipe_is_wrong(v):
    program = RAW + "class D:\n    def __del__(self):\n        raw(b'Zgarbage')\ndef f(x):\n    D()\n    return 3\n"
    assert_wrong(grade(v, program, ref("assert f(1) == 3\nassert f(2) == 3\n")))


NODE = "class Node:\n    def __init__(self, d):\n        self.d = d\n        self.left = None\n"
FAULTS_TEST = "root = Node(1)\nroot.right = root.left\nroot.left = Node(2)\nassert repr(root.left) and f(root) == 1\n"


@pytest.mark.docker
@pytest.mark.parametrize(
    "node",
    [
        # a NameError (the program's bug or a bluff) from an attribute access: wrong, not a refused reference
        "class Node:\n    def __init__(self, d):\n        self.d = d\n    def __getattr__(self, name):\n"
        "        raise NameError(name)\n",
        "class Node:\n    def __init__(self, d):\n        raise NameError('Node')\n",
        "class Node:\n    def __init__(self, d):\n        raise StopIteration\n",
        # a constructor that hangs: the time limit, then wrong
        "class Node:\n    def __init__(self, d):\n        while True:\n            pass\n",
        # a metaclass that builds no Node at all: the test's `root.left = ...` fails on an int
        "class M(type):\n    def __call__(cls, *a):\n        return 42\nclass Node(metaclass=M):\n    pass\n",
        # a __repr__ that recurses without end, asked for by the test
        NODE + "    def __repr__(self):\n        return repr(self)\n",
        # an attribute nested too deep to cross
        NODE.replace(
            "self.left = None", "self.left = []\n        for _ in range(200):\n            self.left = [self.left]"
        ),
    ],
    ids=["getattr-nameerror", "init-nameerror", "init-stopiteration", "init-hangs", "metaclass", "repr", "deep"],
)
def test_faults_of_the_programs_class_are_wrong(v, node):
    t0 = time.monotonic()
    assert_wrong(grade(v, node + "def f(n):\n    return n.d\n", ref(FAULTS_TEST)))
    assert time.monotonic() - t0 < 30
    assert_correct(grade(v, NODE + "def f(n):\n    return n.d\n", ref(FAULTS_TEST)))


@pytest.mark.docker
def test_a_constructor_that_forks_leaves_nothing_behind(v):
    """``__init__`` forks a child that outlives the test; the row is judged, the child is swept, the next row is fine."""
    program = (
        "import os, time\nclass Node:\n    def __init__(self, d):\n        self.d = d\n        if os.fork() == 0:\n"
    )
    program += "            time.sleep(60)\n            os._exit(0)\ndef f(n):\n    return n.d\n"
    test = ref("assert f(Node(4)) == 4\n")
    t0 = time.monotonic()
    verdict = grade(v, program, test)
    assert verdict.status in ("correct", "wrong"), verdict
    assert_correct(
        grade(v, "class Node:\n    def __init__(self, d):\n        self.d = d\ndef f(n):\n    return n.d\n", test)
    )
    assert time.monotonic() - t0 < 30


@pytest.mark.docker
def test_more_objects_than_the_handle_table_holds(v):
    """120,000 objects (past MAX_HANDLES) returned over three calls: the rest cross as opaque stand-ins, the judge's
    memory stays bounded, and an object past the cap cannot be handed back (wrong, not error)."""
    program = "class O:\n    pass\ndef many(n):\n    return [O() for _ in range(n)]\ndef f(o):\n    return 1\n"
    test = ref(
        """
        kept = many(40_000) + many(40_000) + many(40_000)
        assert f(kept[0]) == 1  # a real handle goes back
        assert kept[-1] and f(kept[-1]) == 1  # past the cap: an opaque stand-in, which cannot go back
        """
    )
    assert_wrong(grade(v, program, test))
    assert_correct(grade(v, program, ref("kept = many(40_000) + many(40_000)\nassert f(kept[-1]) == 1\n")))


@pytest.mark.docker
@pytest.mark.parametrize(
    "program",
    [
        "class int:\n    pass\ndef f():\n    return int\n",  # a class of the program's named like a builtin
        "import builtins\nclass Fake(type):\n    __name__ = 'int'\ndef f():\n    return Fake('int', (), {})\n",
    ],
    ids=["named-int", "metaclass-name"],
)
def test_only_the_real_builtin_types_cross_by_name(v, program):
    assert_wrong(grade(v, program, ref("assert f() is int\n")))
    assert_correct(grade(v, "def f():\n    return int\n", ref("assert f() is int\n")))


@pytest.mark.docker
def test_a_programs_top_level_names_never_replace_the_tests_builtins(v):
    """Officially the program's ``sorted`` would shadow the builtin in the test; the judge keeps its own."""
    program = "def sorted(x, **k):\n    return [1, 2]\ndef f(x):\n    return [4, 3]\n"
    assert_wrong(grade(v, program, ref("assert sorted(f(0)) == [1, 2]\n")))


@pytest.mark.docker
@pytest.mark.parametrize(
    "imports",
    [
        "from math import isclose\nimport numpy as np\n",
        "from math import *\nimport numpy as np\n",
        "from math import isclose as isclose\nimport numpy.linalg as la\nimport numpy as np\n",
    ],
)
def test_names_the_programs_imports_bind_are_the_judges_own(v, imports):
    """A test that judges with an imported function uses the judge's import, not a handle on the program's (which
    the program patched: officially its patches would pass)."""
    test = ref("assert isclose(f(1), 2.0) and np.allclose([f(1)], [2.0])\n")
    patch = "isclose = lambda *a, **k: True\nnp.allclose = lambda *a, **k: True\n"
    assert_wrong(grade(v, imports + patch + "def f(x):\n    return 5.0\n", test))
    assert_correct(grade(v, imports + "def f(x):\n    return 2.0 + 1e-12\n", test))


@pytest.mark.docker
@pytest.mark.parametrize(
    ("imports", "test"),
    [
        ("from unittest.mock import call as math\n", "assert math.isclose(f(1), 2.0)\n"),  # a call(...): truthy
        ("from unittest.mock import call as isclose\n", "assert isclose(f(1), 2.0)\n"),
        ("from unittest.mock import call as np\n", "assert np.allclose([f(1)], [2.0])\n"),
        ("import math\nfrom unittest.mock import call as isclose\n", "assert isclose(f(1), 2.0)\n"),
    ],
)
def test_a_renaming_import_cannot_choose_what_a_tests_name_means(v, imports, test):
    """A program that binds an always-truthy object under a name the test judges with gains nothing: the renamed
    name is neither the program's object (a handle) nor trusted; the test fails on it (``wrong``, not ``error``)."""
    assert_wrong(grade(v, imports + "def f(x):\n    return 5.0\n", ref(test)))


@pytest.mark.docker
@pytest.mark.parametrize(
    "program",
    [
        "class _M:\n    def isclose(self, *a, **k):\n        return True\nmath = _M()\n",
        "class math:\n    @staticmethod\n    def isclose(*a, **k):\n        return True\n",
        "import math\nmath.isclose = lambda *a, **k: True\n",
    ],
    ids=["object", "class", "patched"],
)
def test_a_module_the_test_uses_is_the_judges_own_whatever_the_program_binds(v, program):
    """Full MBPP's asserts use ``math.isclose`` without importing math (the reference imported it): a program that
    binds its own ``math`` gains nothing; an honest one passes."""
    test = ref("assert math.isclose(f(1), 2.0)\n")
    assert_wrong(grade(v, program + "def f(x):\n    return 5.0\n", test))
    assert_correct(grade(v, "import math\ndef f(x):\n    return 2.0\n", test))


@pytest.mark.docker
def test_a_program_helper_named_like_a_module_is_still_the_programs(v):
    """The control: a helper the test calls (not a module it reads attributes of) stays the program's."""
    program = "def calendar(n):\n    return n * 2\ndef f(x):\n    return calendar(x)\n"
    assert_correct(grade(v, program, ref("assert f(2) == calendar(2) == 4\n")))


@pytest.mark.docker
def test_a_forged_hello_gains_nothing(v):
    """The program writes its own list of names first, claiming builtins and a name it lacks."""
    program = RAW + "import json\nraw(b'N' + json.dumps(['sorted', 'len', 'Node']).encode())\n"
    program += "class Node:\n    def __init__(self, d):\n        self.d = d\ndef f(n):\n    return n.d\n"
    assert_wrong(grade(v, program, ref("assert f(Node(1)) == 1 and sorted([2, 1]) == [1, 2]\n")))


@pytest.mark.docker
def test_a_test_function_still_cannot_cross(v):
    """The clear refusal stays: a function of the test's cannot be handed to the program (it would run in the judge)."""
    verdict = grade(v, "def f(g):\n    return g(1)\n", ref("assert f(lambda x: x + 1) == 2\n"))
    assert verdict.status == "error" and "cannot cross" in verdict.detail, verdict


# -------------------------------------------------------------------------------------- the encoding (no Docker)


def test_the_programs_import_lines_are_read_linearly_and_exactly():
    program = (
        "import math, os.path\nimport numpy as np\nimport a.b as c\nfrom collections import Counter, deque as dq\n"
        "from math import *\nfrom __future__ import annotations\nfrom .rel import y\n  import indented\n"
        "import re  # why\nimport sys as sorted\n"
    )
    assert worker._program_imports(program) == [
        ("math", "math", None),
        ("os", "os.path", None),
        ("np", "numpy", ""),
        ("c", "a.b", ""),
        ("Counter", "collections", "Counter"),
        ("dq", "collections", "deque"),
        ("*", "math", "*"),
        ("re", "re", None),
        ("sorted", "sys", ""),
    ]
    namespace = {}
    worker._mirror_imports(namespace, program)
    assert (
        namespace["np"].__name__ == "numpy"
        and namespace["Counter"].__name__ == "Counter"
        and "sorted" not in namespace
    )
    assert isinstance(namespace["dq"], worker._Renamed)  # a class renamed: never trusted, never a handle
    assert namespace["os"].path and namespace["isclose"](1.0, 1.0) and "c" not in namespace  # no module a.b here
    t0 = time.monotonic()
    worker._program_imports(
        "import " + "a , " * 200_000 + "!\n" + ("from a import " + "b as c, " * 100_000 + "!\n") * 2
    )
    assert time.monotonic() - t0 < 5


def test_builtin_types_cross_by_name_and_nothing_else_does():
    for t in (int, float, str, list, tuple, dict, set, frozenset, bool, bytes, complex, type(None)):
        assert worker.decode_value(json.dumps(worker.encode_value([t, (t,)]))) == [t, (t,)]
    for value in (type, object, ValueError, type("int", (), {}), print):
        with pytest.raises(TypeError):
            worker.encode_value(value)
    for tagged in ('{"$type": "eval"}', '{"$type": "type"}', '{"$type": ["int"]}', '{"$obj": [1, "x"]}'):
        with pytest.raises(ValueError):
            worker.decode_value(tagged)  # handles are the bridge's only; the host never decodes one


def test_the_candidates_handle_table_is_capped_and_rolls_back(monkeypatch):
    monkeypatch.setattr(worker, "MAX_HANDLES", 3)
    handles = worker._Handles()
    objs = [object() for _ in range(5)]
    tags = [handles.tag(o) for o in objs[:3]]
    assert [t["$obj"][0] for t in tags] == [1, 2, 3] and handles.tag(objs[1]) == {"$obj": [2, "object"]}
    assert handles.tag(objs[3]) == {"$opaque": ["object", True]}  # full: an opaque stand-in, no handle
    assert handles.untag({"$obj": [2, ""]}) is objs[1]
    for bad in ({"$obj": [4, ""]}, {"$obj": [0, ""]}, {"$obj": ["1", ""]}, {"$obj": True}):
        with pytest.raises(ValueError):
            handles.untag(bad)
    handles.rollback(1)
    assert handles.tag(objs[4]) == {"$obj": [2, "object"]}


def test_the_judge_accepts_only_the_next_handle_number(monkeypatch):
    monkeypatch.setattr(worker, "_REMOTES", [])
    one = worker._judge_untag({"$obj": [1, "Node"]})
    assert (
        worker._judge_untag({"$obj": [1, "Other"]}) is one
        and one == one
        and one != worker._judge_untag({"$obj": [2, "Node"]})
    )
    for bad in ([4, "Node"], [0, "Node"], [-1, "Node"], [True, "x"], [3.0, "x"], [3, 3], [3]):
        with pytest.raises(ValueError):
            worker._judge_untag({"$obj": bad})
    monkeypatch.setattr(worker, "MAX_HANDLES", 2)
    with pytest.raises(ValueError):
        worker._judge_untag({"$obj": [3, "Node"]})
