"""Command-line options built from config dataclasses, so each default and its help are written once, in the
field (`help` in the field's metadata). Used by `cli.py`."""

from __future__ import annotations

import argparse
import dataclasses
import typing


def option(help: str, default=dataclasses.MISSING, **argparse_keywords):
    """A config field with its command-line help (and optional argparse keywords such as `choices`)."""
    return dataclasses.field(default=default, metadata=dict(help=help, argparse=argparse_keywords))


def _argument(hint) -> dict:
    """argparse keywords for a field's type hint: bool -> a flag, tuple[int, ...] -> nargs, X | None -> X."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if hint is bool:
        return dict(action="store_true")
    if typing.get_origin(hint) is tuple:
        return dict(type=args[0], nargs="+")
    if args:
        return _argument(args[0])
    return dict(type=hint)


def _default(cls, name: str):
    field = cls.__dataclass_fields__[name]
    return field.default if field.default is not dataclasses.MISSING else None


def _shown(value) -> str:
    return " ".join(map(str, value)) if isinstance(value, tuple) else str(value)


def add_options(parser: argparse.ArgumentParser, *config_classes, skip: tuple[str, ...] = (), required: tuple[str, ...] = (),
                defaults: bool = True) -> None:
    """An option --field-name for every field of the config classes (the first class that has a field gives its
    help). With defaults=False, options left out are left out of the namespace too, so that a class chosen
    later (e.g. by --kind) fills them with its own defaults; the help then names each class's default by its
    `kind` where they differ."""
    seen = set()
    for cls in config_classes:
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            if field.name in seen or field.name in skip:
                continue
            seen.add(field.name)
            keywords = _argument(hints[field.name]) | field.metadata.get("argparse", {})
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


def config_from(config_class, args: argparse.Namespace):
    """A config dataclass filled from the parsed options of the same names (tuples for nargs lists)."""
    names = {f.name for f in dataclasses.fields(config_class)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in vars(args).items() if k in names}
    return config_class(**values)
