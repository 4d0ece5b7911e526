"""The formula parser: what it evaluates, and everything it refuses."""

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_lr as tg
from tinygrad_lr import ExpressionError, expr
from tinygrad_lr.teach.naming import Names

from . import inprocess


def test_evaluates_with_labelled_inputs_ready_for_backward():
    out = expr("log(sigmoid(w*x + b))", x=2, w=-0.5, b=0.1)
    assert out.data == pytest.approx(math.log(1 / (1 + math.exp(0.9))))
    out.backward()
    leaves = {n.label: n for n in tg.engine.walk(out) if n.is_leaf and n.label}
    assert set(leaves) == {"x", "w", "b"}
    assert leaves["b"].grad == pytest.approx(1 - 1 / (1 + math.exp(0.9)))
    assert tg.expr is expr


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2 ** -x", 0.25),
        ("-x + +x", 0.0),
        ("exp(0) * 3 / 4 - 1", -0.25),
        ("tanh(relu(-x))", 0.0),
        ("x**x", 4.0),
    ],
)
def test_arithmetic_and_functions(text, value):
    assert expr(text, **({"x": 2} if re.search(r"\bx\b", text) else {})).data == pytest.approx(value)


def test_values_must_be_numbers_and_every_one_used():
    with pytest.raises(ExpressionError, match="w='abc': give a number"):
        expr("w * 2", w="abc")
    with pytest.raises(ExpressionError, match="wx not in the formula; the variables are w, x"):
        expr("w * x", w=1, x=2, wx=3)
    assert expr("w * 2", w=tg.Value(1.5)).data == 3.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x.__class__", "attribute access is not allowed"),
        ("x[0]", "subscripts are not allowed"),
        ("(lambda: 1)()", "only the functions"),
        ("lambda: 1", "lambdas are not allowed"),
        ("[i for i in x]", "comprehensions are not allowed"),
        ("sum(i for i in x)", "only the functions"),
        ("y + 1", "give a value for y"),
        ("__import__('os')", "only the functions"),
        ("open('f')", "only the functions"),
        ("exp(x, x)", "takes exactly one argument"),
        ("exp(x=1)", "takes exactly one argument"),
        ("x if x else 1", "IfExp expressions are not allowed"),
        ("'a' + x", "only numbers are allowed"),
        ("x @ x", "the operator @ at column 3 is not allowed"),
        ("x ^ 2", re.escape("the operator ^ at column 3 is not allowed; use + - * / **; use ** for powers")),
        ("x +", r"not a formula: invalid syntax at the end \(column 4\)"),
        ("x = 1", "not a formula"),
        ("(" * 300 + "x" + ")" * 300, "not a formula|nests more than"),
        ("x" + "+x" * 150, "nests more than 100 levels"),
    ],
)
def test_refuses_everything_else_with_a_reason(text, message):
    with pytest.raises(ExpressionError, match=message):
        expr(text, x=1.0)


def test_pathological_inputs_fail_fast():
    for text in ("x" * 100_000, "(" * 50_000 + "x" + ")" * 50_000, "-" * 100_000 + "x"):
        with pytest.raises(ExpressionError, match=r"100,00[01] characters long; the limit is 2,000"):
            expr(text, x=1.0)
    with pytest.raises(ExpressionError, match="must be text"):
        expr(3)


# --- only ExpressionError, whatever the text and the values ------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "column"),
    [("exp", "exp", 1), ("σ", "σ", 1), ("exp+1", "exp", 1), ("x * log", "log", 5), ("  exp", "exp", 3)],
)
def test_a_function_named_but_not_called_is_refused_with_its_column(text, name, column):
    with pytest.raises(
        ExpressionError, match=rf"^{name} at column {column} is a function: call it, e.g. {name}\(x\)$"
    ):
        expr(text, **({"x": 1.0} if "x" in text.replace("exp", "") else {}))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1/0", math.inf),
        ("-1/0", -math.inf),
        ("0/0", math.nan),
        ("log(.5)/0", -math.inf),
        ("0**-1", math.inf),
        ("9**9**9", math.inf),
        ("999**999", math.inf),
        ("9**1000", math.inf),
        ("(-9)**1001", -math.inf),
        ("2 ** 100000", math.inf),
        ("(-1)**0.5", math.nan),
        ("log(0)", -math.inf),
        ("log(-1)", math.nan),
        ("exp(1000)", math.inf),
        ("1e308 * 10", math.inf),
    ],
)
def test_constants_follow_ieee_rules_as_values_do(text, value):
    out = expr(text)
    assert isinstance(out, tg.Value) and not out.requires_grad
    assert math.isnan(out.data) if math.isnan(value) else out.data == value


def test_a_constant_next_to_a_variable_is_a_leaf_that_needs_no_gradient():
    x = tg.Value(2.0)
    out = expr("3*x + 1/0*0 + x**2 + 2**x", x=x)  # 1/0*0 is inf*0: nan, as for Values
    assert math.isnan(out.data)
    out = expr("3*x + x**2 + 2**x", x=x)
    assert out.data == 3 * 2.0 + 2.0**2 + 2**2.0
    out.backward()
    assert x.grad == pytest.approx(3 + 2 * 2.0 + 2**2.0 * math.log(2))
    constants = [n for n in tg.engine.walk(out) if n.is_leaf and n is not x]
    assert sorted(n.data for n in constants) == [2.0, 3.0] and not any(n.requires_grad for n in constants)
    assert "**2" in {n.op for n in tg.engine.walk(out)}  # a number exponent stays one op


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "1" + "0" * 400,
            r"the number 100000000000…\(401 characters\) at column 1 is too large",
            id="10**400",
        ),
        ("x + 1e999", "the number 1e999 at column 5 is too large for a float"),
        ("-1E400*x", "the number 1E400 at column 2 is too large"),
        ("x * 1e-999", "the number 1e-999 at column 5 is too small for a float: it would be 0"),
        (
            "x * 0." + "0" * 30 + "1e-999",
            r"the number 0.0000000000…\(38 characters\) at column 5 is too small",
        ),
        ("x * 0.0e-999", None),  # zero written as zero is fine
    ],
)
def test_a_literal_that_a_float_cannot_hold_is_refused(text, message):
    if message is None:
        assert expr(text, x=1.0).data == 0.0
        return
    with pytest.raises(ExpressionError, match=message):
        expr(text, x=1.0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(
            10**400, r"^x \(used at column 5\) is an integer of 401 digits, too large", id="10**400"
        ),
        pytest.param(-(10**309), "integer of 310 digits, too large", id="-10**309"),
        ("1.5", r"^x='1.5': give a number or a tg.Value$"),
        (True, "x=True: give a number"),
        (None, "x=None: give a number"),
        (1 + 2j, r"x=\(1\+2j\): give a number"),
        (np.array([1.0, 2.0]), r"x=array\(\[1., 2.\]\): give a number"),
        (tg.Tensor([1.0]), "x is a Tensor: a formula works on scalars"),
    ],
)
def test_a_variable_must_be_a_number_a_float_holds_or_a_value(value, message):
    with pytest.raises(ExpressionError, match=message):
        expr("1 + x", x=value)


def test_ieee_special_values_given_for_variables_are_used():
    assert expr("x + 1", x=math.inf).data == math.inf
    assert math.isnan(expr("x * 0", x=math.inf).data)
    assert expr("x", x=np.float32(0.5)).data == 0.5


def test_a_value_given_for_a_variable_is_that_node_and_receives_its_gradient():
    w = tg.Value(3.0)
    out = expr("w*w", w=w)
    out.backward()
    assert w.grad == 2 * 3.0 and w.label == "w"  # an unlabelled Value gets the variable's name
    named = tg.Value(-1.5, label="weight")
    out = expr("a*b + a", a=named, b=named)  # one node for two variables: d/da (a² + a) = 2a + 1
    out.backward()
    assert named.grad == 2 * -1.5 + 1 and named.label == "weight"  # a user's label is kept
    assert expr("w", w=w) is w


def test_a_refused_value_leaves_the_other_values_untouched():
    w = tg.Value(1.0)
    with pytest.raises(ExpressionError, match="x='no'"):
        expr("w * x", w=w, x="no")
    assert w.label == ""


def test_text_is_positional_so_any_variable_name_works():
    assert expr("text * 2", text=3).data == 6.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("σ(x) + exp", "exp at column 8 is"),  # columns count characters, not UTF-8 bytes
        ("(x\n + exp)", "exp at line 2, column 4 is"),
        ("\n\n  (x +\r\n exp)", "exp at line 4, column 2 is"),
        ("x + y", r"give a value for y \(at column 5\), e.g. y=1.0"),
        ("u + x + y", r"give a value for u \(at column 1\), y \(at column 9\)"),
        ("x\x00", r"the character U\+0000 \(a control character\) at column 2 is not allowed"),
        ("x\u200b+ 1", r"U\+200B \(ZERO WIDTH SPACE\) at column 2"),
        ("x + [1]", r"List expressions are not allowed \(\[1\]\) at column 5"),
        ("-" * 120 + "x", "nests more than 100 levels deep at column 101"),
    ],
)
def test_messages_say_where(text, message):
    with pytest.raises(ExpressionError, match=message):
        expr(text, x=1.0)


def test_refusing_prints_no_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ExpressionError, match="only numbers are allowed"):
            expr("'\\d' + x", x=1.0)  # Python warns "invalid escape sequence" while parsing this
    assert [str(w.message) for w in caught] == []


_PIECES = [
    *"0123456789.eE+-*/() xy,_#'@%^<~=",
    *("**", "exp", "log", "σ", "sigmoid", "tanh(", "relu", "softplus", "1e308", "1e-320", "9" * 30),
    *("é", "²", "\n", "\t", "\x00", "\u200b", "\ud800", "x.", "[", "]", "lambda", "if", "not", "True", "j"),
]  # formula characters, and a few that are not


@given(
    pieces=st.lists(st.sampled_from(_PIECES), max_size=24),
    x=st.one_of(st.floats(), st.integers(-(10**400), 10**400), st.builds(tg.Value, st.floats())),
    y=st.one_of(st.floats(), st.text(max_size=3), st.none()),
)
@settings(max_examples=600, deadline=None)
def test_any_text_gives_a_value_or_an_expression_error(pieces, x, y):
    text = "".join(pieces)
    given_ = {name: v for name, v in (("x", x), ("y", y)) if re.search(rf"(?<!\w){name}(?!\w)", text)}
    try:
        out = expr(text, **given_)
    except ExpressionError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert isinstance(out, tg.Value)
    if out.requires_grad:  # what graph and step do next
        out.backward(retain_grads=True)
        Names(out)
        tg.draw(out)


def test_very_long_chains_of_signs_are_refused_quickly():
    for text in ("-" * 1999 + "x", "+-" * 999 + "x", "(" * 999 + "x" + ")" * 999, "x" + "**x" * 600):
        with pytest.raises(ExpressionError):
            expr(text, x=1.0)


@pytest.mark.parametrize("command", ["graph", "step"])
def test_the_command_line_reports_a_bad_formula_in_one_line(command, tmp_path):
    extra = ["-o", str(tmp_path / "g.dot")] if command == "graph" else ["--all"]
    for formula, message in [
        ("exp + x", "exp at column 1 is a function"),
        ("x * 1" + "0" * 400, "at column 5 is too large for a float"),
    ]:
        result = inprocess.run(command, formula, "--set", "x=2", *extra)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert message in result.stderr and result.stderr.count("\n") == 1
    ok = inprocess.run(command, "1/0 * x", "--set", "x=2", *extra)
    assert ok.returncode == 0 and "Traceback" not in ok.stderr


@pytest.mark.parametrize("text", ["", " ", "\t\n  "])
def test_an_empty_formula_is_named_empty(text):
    with pytest.raises(tg.ExpressionError, match="the formula is empty"):
        tg.expr(text)
