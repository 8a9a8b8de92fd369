"""Register failtrack's block types with the Prefect API and create their default documents.

    python blocks/register.py                    # against PREFECT_API_URL
    python blocks/register.py --name staging --database-url postgresql+psycopg://...

Registering is what ``prefect block register -m prefect_failtrack`` does too:
Prefect registers every Block class it finds among the module's attributes
(``prefect/cli/block.py``, ``_register_blocks_in_module``), and the package
exports `FailtrackConfig` for that. This script also creates the ``default``
document (the one failtrack reads unless ``PREFECT_INTEGRATIONS_FAILTRACK_CONFIG_BLOCK``
names another), and leaves an existing one alone unless ``--overwrite`` is given.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from prefect_failtrack.blocks import FailtrackConfig

BLOCK_TYPES = (FailtrackConfig,)
DEFAULT_NAME = "default"


def register_block_types() -> list[str]:
    """Register (or update) every failtrack block type; their slugs."""
    for block_type in BLOCK_TYPES:
        block_type.register_type_and_schema(_sync=True)  # type: ignore[call-arg]
    return [block_type.get_block_type_slug() for block_type in BLOCK_TYPES]


def create_default(
    name: str = DEFAULT_NAME,
    *,
    database_url: str | None = None,
    notify_block: str | None = None,
    overwrite: bool = False,
) -> bool:
    """Save a `FailtrackConfig` document with the defaults; False if one exists (kept)."""
    if not overwrite:
        try:
            FailtrackConfig.load(name, _sync=True)  # type: ignore[call-arg]
            return False
        except ValueError:  # no such document (prefect/blocks/core.py, Block._get_block_document)
            pass
    config = FailtrackConfig(database_url=database_url, notify_block=notify_block)
    config.save(name, overwrite=overwrite, _sync=True)  # type: ignore[call-arg]
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default=DEFAULT_NAME, help="document name (default: %(default)s)")
    parser.add_argument("--database-url", help="the audit database's SQLAlchemy URL")
    parser.add_argument("--notify-block", help="notification block for alerts, as slug/name")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing document")
    args = parser.parse_args(argv)
    for slug in register_block_types():
        print(f"Registered block type {slug!r}.")
    created = create_default(
        args.name, database_url=args.database_url, notify_block=args.notify_block,
        overwrite=args.overwrite,
    )
    if created:
        print(f"Saved FailtrackConfig {args.name!r}.")
    else:
        print(f"FailtrackConfig {args.name!r} exists; kept it (--overwrite replaces it).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
