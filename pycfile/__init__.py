"""pycfile: read and write the .pyc files of every Python version, byte for byte.

>>> import pycfile
>>> pyc = pycfile.loads(data)            # doctest: +SKIP
>>> pycfile.dumps(pyc) == data           # doctest: +SKIP
True
"""

from . import marshal
from ._code import (
    CO_FAST_CELL as CO_FAST_CELL,
    CO_FAST_FREE as CO_FAST_FREE,
    CO_FAST_HIDDEN as CO_FAST_HIDDEN,
    CO_FAST_LOCAL as CO_FAST_LOCAL,
    AnyCode as AnyCode,
    Code as Code,
    Code10 as Code10,
    Code13 as Code13,
    Code15 as Code15,
    Code21 as Code21,
    Code23 as Code23,
    Code30 as Code30,
    Code38 as Code38,
    Code310 as Code310,
    Code311 as Code311,
    Code311a as Code311a,
    code_class as code_class,
)
from ._errors import (
    BadHeaderError as BadHeaderError,
    BadMarshalError as BadMarshalError,
    BadPycError as BadPycError,
    NestingTooDeepError as NestingTooDeepError,
    PycError as PycError,
    TruncatedError as TruncatedError,
    UnknownMagicError as UnknownMagicError,
    UnwritableError as UnwritableError,
)
from ._header import FLAG_CHECK_SOURCE as FLAG_CHECK_SOURCE
from ._header import FLAG_HASH_BASED as FLAG_HASH_BASED
from ._header import PycHeader as PycHeader
from ._header import read_header as read_header
from ._header import scan_headers as scan_headers
from ._plain import from_python as from_python
from ._plain import to_python as to_python
from ._pyc import PycFile as PycFile
from ._pyc import dump as dump
from ._pyc import dumps as dumps
from ._pyc import load as load
from ._pyc import loads as loads
from ._siphash import source_hash as source_hash
from ._values import (
    Bytes as Bytes,
    Complex as Complex,
    Dict as Dict,
    Float as Float,
    FrozenDict as FrozenDict,
    FrozenSet as FrozenSet,
    Int as Int,
    List as List,
    Long as Long,
    Set as Set,
    Singleton as Singleton,
    Slice as Slice,
    Str as Str,
    Tuple as Tuple,
    Value as Value,
)
from ._versions import (
    CodeLayout as CodeLayout,
    PycFormat as PycFormat,
    PythonVersion as PythonVersion,
    as_version as as_version,
    format_for_magic as format_for_magic,
    format_for_version as format_for_version,
    known_formats as known_formats,
    register_magic as register_magic,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "AnyCode",
    "BadHeaderError",
    "BadMarshalError",
    "BadPycError",
    "Bytes",
    "CO_FAST_CELL",
    "CO_FAST_FREE",
    "CO_FAST_HIDDEN",
    "CO_FAST_LOCAL",
    "Code",
    "Code10",
    "Code13",
    "Code15",
    "Code21",
    "Code23",
    "Code30",
    "Code38",
    "Code310",
    "Code311",
    "Code311a",
    "CodeLayout",
    "Complex",
    "Dict",
    "FLAG_CHECK_SOURCE",
    "FLAG_HASH_BASED",
    "Float",
    "FrozenDict",
    "FrozenSet",
    "Int",
    "List",
    "Long",
    "NestingTooDeepError",
    "PycError",
    "PycFile",
    "PycFormat",
    "PycHeader",
    "PythonVersion",
    "Set",
    "Singleton",
    "Slice",
    "Str",
    "TruncatedError",
    "Tuple",
    "UnknownMagicError",
    "UnwritableError",
    "Value",
    "as_version",
    "code_class",
    "dump",
    "dumps",
    "format_for_magic",
    "format_for_version",
    "from_python",
    "known_formats",
    "load",
    "loads",
    "marshal",
    "read_header",
    "register_magic",
    "scan_headers",
    "source_hash",
    "to_python",
]
