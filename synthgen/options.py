"""Command-line options built from config dataclasses, so each default, its help and its allowed range are
written once, in the field (`help` and `bounds` in the field's metadata). Used by the command line, and by the
configs' own checks (`check_bounds`) for values that come from Python or the studio page.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import numbers
import typing

from synthgen.errors import SynthGenError


@dataclasses.dataclass(frozen=True)
class Bounds:
    """The values a number may take: finite, and within the given limits (None: no limit)."""

    at_least: float | None = None
    at_most: float | None = None
    above: float | None = None

    def problem(self, value) -> str | None:
        """Why `value` is refused ("must be >= 0"), or None when it is allowed."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):  # numpy numbers included
            return None
        if not math.isfinite(value):
            return f"must be a finite number{self._range()}"
        if ((self.at_least is not None and value < self.at_least) or (self.at_most is not None and value > self.at_most)
                or (self.above is not None and value <= self.above)):
            return "must be" + self._range()
        return None

    def _range(self) -> str:
        limits = [f">= {_number(self.at_least)}" if self.at_least is not None else "",
                  f"> {_number(self.above)}" if self.above is not None else "",
                  f"<= {_number(self.at_most)}" if self.at_most is not None else ""]
        return " " + " and ".join(x for x in limits if x) if any(limits) else ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def bounded(kind: type = float, **limits) -> typing.Callable[[str], float]:
    """An argparse type: the text as `kind` (int or float), refused unless finite and within `limits` (Bounds'
    fields), with the allowed range in the message."""
    bounds = Bounds(**limits)

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not {'an integer' if kind is int else 'a number'}") from None
        if (problem := bounds.problem(value)) is not None:
            raise argparse.ArgumentTypeError(f"{problem}, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def option(help: str, default=dataclasses.MISSING, *, at_least: float | None = None, at_most: float | None = None,
           above: float | None = None, old_names: tuple[str, ...] = (), **argparse_keywords):
    """A config field with its command-line help, the range a number may take (finite numbers only, always),
    earlier names its option is still accepted under (not shown in --help) and optional argparse keywords such
    as `choices`."""
    bounds = Bounds(at_least, at_most, above)
    return dataclasses.field(default=default, metadata=dict(help=help, bounds=bounds, old_names=old_names,
                                                            argparse=argparse_keywords))


def check_bounds(config) -> None:
    """Refuse a config whose numbers are out of their fields' bounds, naming the option (SynthGenError)."""
    for field in dataclasses.fields(config):
        bounds = field.metadata.get("bounds")
        value = getattr(config, field.name)
        if bounds is not None and (problem := bounds.problem(value)) is not None:
            raise SynthGenError(f"--{field.name.replace('_', '-')} {problem}, got {value}")


def check_types(config) -> None:
    """Refuse a config whose values are not of their fields' types (2.5 where a whole number is asked, "no" for a
    switch, text for a number), naming the field (SynthGenError): what a Python caller can pass and argparse cannot."""
    hints = typing.get_type_hints(type(config))
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if (problem := _type_problem(hints[field.name], value)) is not None:
            raise SynthGenError(f"{field.name} {problem}, got {value!r}")


def _type_problem(hint, value) -> str | None:
    """Why `value` is not of type `hint` (bool, int, float, str, or one of them | None), or None."""
    if value is None:
        return None if type(None) in typing.get_args(hint) else "must be given"
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    hint = args[0] if args else hint
    if hint is bool and not isinstance(value, bool):
        return "must be True or False"
    if hint is int and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
        return "must be a whole number"
    if hint is float and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
        return "must be a number"
    if hint is str and not isinstance(value, str):
        return "must be text"
    return None


def _argument(hint, bounds: Bounds = Bounds()) -> dict:
    """argparse keywords for a field's type hint: bool -> a flag, tuple[int, ...] -> nargs, X | None -> X,
    numbers -> `bounded`."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if hint is bool:
        return dict(action="store_true")
    if typing.get_origin(hint) is tuple:
        return dict(type=args[0], nargs="+")
    if args:
        return _argument(args[0], bounds)
    if hint in (int, float):
        return dict(type=bounded(hint, **dataclasses.asdict(bounds)))
    return dict(type=hint)


def _default(cls, name: str):
    field = cls.__dataclass_fields__[name]
    return field.default if field.default is not dataclasses.MISSING else None


def _shown(value) -> str:
    return " ".join(map(str, value)) if isinstance(value, tuple) else str(value)


def add_options(parser: argparse.ArgumentParser, *config_classes, skip: tuple[str, ...] = (),
                only: tuple[str, ...] | None = None, required: tuple[str, ...] = (), defaults: bool = True) -> None:
    """An option --field-name for every field of the config classes (the first class that has a field gives its
    help), but those in `skip` or not in `only`. With defaults=False, options left out are left out of the namespace too, so that a class chosen
    later (e.g. by --kind) fills them with its own defaults; the help then names each class's default by its
    `kind` where they differ."""
    seen = set()
    for cls in config_classes:
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            if field.name in seen or field.name in skip or (only is not None and field.name not in only):
                continue
            seen.add(field.name)
            keywords = _argument(hints[field.name], field.metadata.get("bounds", Bounds())) | field.metadata.get("argparse", {})
            default = _default(cls, field.name)
            help_text = field.metadata.get("help", "")
            flag = f"--{field.name.replace('_', '-')}"
            if default is True:  # a switch that is on: the option turns it off
                keywords, flag = dict(action="store_false", dest=field.name), f"--no-{field.name.replace('_', '-')}"
            if field.name in required:
                keywords["required"] = True
            else:
                keywords["default"] = default if defaults else argparse.SUPPRESS
                owners = [c for c in config_classes if field.name in c.__dataclass_fields__]
                shown = {getattr(c, "kind", c.__name__): _default(c, field.name) for c in owners}
                if len(set(map(_shown, shown.values()))) > 1:
                    help_text += " (default " + ", ".join(f"{_shown(v)} for {k}" for k, v in shown.items()) + ")"
                elif default is not None and not isinstance(default, bool):
                    help_text += f" (default {_shown(default)})"
            parser.add_argument(flag, help=help_text, **keywords)
            for old in field.metadata.get("old_names", ()):
                parser.add_argument(f"--{old.replace('_', '-')}", **keywords | dict(dest=field.name, help=argparse.SUPPRESS,
                                                                               default=argparse.SUPPRESS))


def config_from(config_class, args: argparse.Namespace):
    """A config dataclass filled from the parsed options of the same names (tuples for nargs lists)."""
    names = {f.name for f in dataclasses.fields(config_class)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in vars(args).items() if k in names}
    return config_class(**values)
