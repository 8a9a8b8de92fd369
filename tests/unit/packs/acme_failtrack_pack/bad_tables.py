"""A pack whose tables are not well formed (a test fixture)."""


class PACK:
    TYPES = {"acme.errors.Other": "NOT_A_CLASS"}
    CODE_SOURCES = {"acme.errors.Other": ["not a CodeSource"]}
