"""`scomm keys show | rotate`: the key that signs the service's tokens, and its rotation."""

from __future__ import annotations

import time

import typer
from rich.markup import escape

from scomm.api.errors import ApiKeyError
from scomm.api.server import key_path
from scomm.api.tokens import TOKEN_SECONDS, TokenKeys, previous_keys, rotate_key
from scomm.cli.console import console
from scomm.cli.errors import BadInput
from scomm.cli.options import UpgradedDatabaseUrl
from scomm.config import load_settings

keys_app = typer.Typer(
    help="The key that signs the service's tokens: show it, rotate it.", no_args_is_help=True
)


@keys_app.command("show")
def keys_show(database: UpgradedDatabaseUrl = None) -> None:
    """The signing key's file and kid, and the previous keys whose tokens still verify."""
    try:
        path = key_path(load_settings(database_url=database))
        keys = TokenKeys.from_file(path)
    except ApiKeyError as error:
        raise BadInput(error.message) from error
    console.print(f"signing key {escape(str(path))}: kid {keys.kid}")
    for previous in previous_keys(path):
        console.print(f"previous key {escape(str(previous))}")


@keys_app.command("rotate")
def keys_rotate(database: UpgradedDatabaseUrl = None) -> None:
    """Make a new signing key. Tokens signed by the old one verify until they expire (its
    public key stays beside the new one); restart `scomm serve` to sign with the new key."""
    try:
        path = key_path(load_settings(database_url=database))
        old, new = rotate_key(path, time.time())
    except ApiKeyError as error:
        raise BadInput(error.message) from error
    console.print(
        f"rotated {escape(str(path))}: kid {old} -> {new}; tokens of {old} verify for up to "
        f"{TOKEN_SECONDS // 60} more minutes after the restart"
    )
