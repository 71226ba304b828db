"""Which arm is the control: given, or chosen only when the labels leave no doubt.

Every comparison is "treatment minus control", so a wrongly guessed control
flips the sign of every lift (arms ``old``/``new`` sorted alphabetically would
make ``new`` the control).  :func:`resolve_control` therefore picks the
control by itself only when the labels make it unambiguous:

1. exactly one arm is *named* as a control: ``"control"``, ``"ctrl"`` or
   ``"baseline"`` (any case, surrounding spaces ignored);
2. otherwise, the arms are the integers ``0, 1, ..., K-1`` (a boolean arm
   counts as 0/1; floats with integer values count too): ``0`` is the control;
3. otherwise, the arms are the consecutive single letters ``A, B, ...`` (any
   case): ``A`` is the control.

Any other set of labels needs ``control=``; the error lists the arms.  The
rule that was used is returned with the index, so results can say which arm
was the control and why.

Example
-------
>>> resolve_control(["B", "control"], None)
(1, "the arm named 'control'")
>>> resolve_control([0, 1, 2], None)
(0, 'arm 0 of the integer arms 0..2')
>>> resolve_control(["new", "old"], "old")
(1, 'given (control=)')
"""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import OptionError

#: Arm names taken to mean "the control" (compared case-insensitively).
CONTROL_NAMES = ("control", "ctrl", "baseline")


def _as_int(label: Any) -> int | None:
    """``label`` as an int when it is an integer-valued number (not a string), else None."""
    if isinstance(label, str):
        return None
    try:
        value = float(label)
    except (TypeError, ValueError):
        return None
    return int(value) if value.is_integer() else None


def resolve_control(labels: Sequence[Any], control: Any = None) -> tuple[int, str]:
    """Index of the control arm among ``labels`` and how it was chosen.

    Raises :class:`~causalkit.errors.OptionError` when ``control`` is not an
    arm, or when it is ``None`` and no rule of the module docstring applies.

    >>> resolve_control(["A", "B", "C"], None)
    (0, "arm 'A' of the letter arms A, B, ...")
    """
    labels = list(labels)
    if control is not None:
        if control not in labels:
            raise OptionError(f"control arm {control!r} is not among the arms {labels}")
        return labels.index(control), "given (control=)"
    named = [i for i, lab in enumerate(labels)
             if isinstance(lab, str) and lab.strip().lower() in CONTROL_NAMES]
    if len(named) == 1:
        return named[0], f"the arm named {labels[named[0]]!r}"
    if len(named) > 1:
        raise OptionError(f"several arms are named as a control ({[labels[i] for i in named]}); "
                          "pass control= to say which one is")
    ints = [_as_int(lab) for lab in labels]
    if all(v is not None for v in ints) and sorted(ints) == list(range(len(labels))):  # type: ignore[type-var]
        return ints.index(0), f"arm 0 of the integer arms 0..{len(labels) - 1}"
    letters = [lab.strip().upper() for lab in labels if isinstance(lab, str)]
    if len(letters) == len(labels) and sorted(letters) == [chr(65 + i) for i in range(len(labels))]:
        i = letters.index("A")
        return i, f"arm {labels[i]!r} of the letter arms A, B, ..."
    raise OptionError(
        f"which arm is the control? The arms {labels} include none named "
        f"{'/'.join(CONTROL_NAMES)} and are neither the integers 0..K-1 nor the letters A, B, ...; "
        "pass control= (guessing would flip the sign of every lift if it guessed wrong)")
