"""pycfile: read and write the .pyc files of every Python version, byte for byte.

``pycfile.load(path)`` / ``pycfile.loads(data)`` read a pyc of any CPython (1.0-3.15) or
PyPy version into a :class:`PycFile` (a :class:`PycHeader` and a typed model of the code
object); ``pycfile.dump``/``pycfile.dumps`` write it back, byte for byte when nothing was
changed.  :mod:`pycfile.marshal` does the same for bare marshal streams.  Every error on
bad input is a :class:`PycError`.  Everything public is listed in ``__all__`` and
documented in the API reference (docs/reference/api.md).
"""

from . import marshal
from ._accel import ACCELERATED as ACCELERATED
from ._assemble import assemble as assemble
from ._assemble import new_instruction as new_instruction
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
    CodePyPy416 as CodePyPy416,
    CodePyPy432 as CodePyPy432,
    code_class as code_class,
)
from ._diff import Difference as Difference
from ._diff import diff as diff
from ._edit import replace_constants as replace_constants
from ._edit import replace_filename as replace_filename
from ._errors import (
    AssembleError as AssembleError,
    BadHeaderError as BadHeaderError,
    BadJsonError as BadJsonError,
    BadMarshalError as BadMarshalError,
    BadPycError as BadPycError,
    BadTableError as BadTableError,
    HostCodeError as HostCodeError,
    NestingTooDeepError as NestingTooDeepError,
    NoPythonValueError as NoPythonValueError,
    NotPycError as NotPycError,
    NotRegularFileError as NotRegularFileError,
    NoOpcodeTableError as NoOpcodeTableError,
    PycError as PycError,
    TruncatedError as TruncatedError,
    UnknownMagicError as UnknownMagicError,
    UnwritableError as UnwritableError,
)
from ._exceptiontable import (
    ExceptionTableEntry as ExceptionTableEntry,
    decode_exception_table as decode_exception_table,
    encode_exception_table as encode_exception_table,
    exception_table as exception_table,
)
from ._header import FLAG_CHECK_SOURCE as FLAG_CHECK_SOURCE
from ._header import FLAG_HASH_BASED as FLAG_HASH_BASED
from ._header import PycHeader as PycHeader
from ._json import from_json as from_json
from ._json import to_json as to_json
from ._hostcode import from_code as from_code
from ._hostcode import to_code as to_code
from ._instructions import Instruction as Instruction
from ._instructions import disassemble as disassemble
from ._instructions import get_instructions as get_instructions
from ._opcodes import OpcodeTable as OpcodeTable
from ._opcodes import opcode_table as opcode_table
from ._opcodes import opcode_table_versions as opcode_table_versions
from ._linetable import (
    build_linetable as build_linetable,
    build_locations as build_locations,
    LinetableEntry as LinetableEntry,
    LnotabEntry as LnotabEntry,
    LocationEntry as LocationEntry,
    PypyPositionEntry as PypyPositionEntry,
    decode_linetable as decode_linetable,
    decode_lnotab as decode_lnotab,
    decode_locations as decode_locations,
    decode_pypy_positions as decode_pypy_positions,
    encode_linetable as encode_linetable,
    encode_lnotab as encode_lnotab,
    encode_locations as encode_locations,
    encode_positions as encode_positions,
    encode_pypy_positions as encode_pypy_positions,
    line_starts as line_starts,
    lines as lines,
    positions as positions,
)
from ._header import read_header as read_header
from ._header import scan_headers as scan_headers
from ._plain import from_python as from_python
from ._plain import to_python as to_python
from ._plain import Unhashable as Unhashable
from ._pyc import PycFile as PycFile
from ._pyc import dump as dump
from ._pyc import dumps as dumps
from ._pyc import load as load
from ._pyc import loads as loads
from ._refs import normalize as normalize
from ._refs import strip_refs as strip_refs
from ._scan import scan_file as scan_file
from ._siphash import source_hash as source_hash
from ._stamp import restamp as restamp
from ._stamp import source_stamp as source_stamp
from ._stamp import to_hash_based as to_hash_based
from ._stamp import to_timestamp as to_timestamp
from ._values import (
    Bytes as Bytes,
    Complex as Complex,
    DictValue as DictValue,
    Float as Float,
    FrozenDict as FrozenDict,
    FrozenSetValue as FrozenSetValue,
    Int as Int,
    ListValue as ListValue,
    Long as Long,
    SetValue as SetValue,
    Singleton as Singleton,
    Slice as Slice,
    Str as Str,
    TupleValue as TupleValue,
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
    "ACCELERATED",
    "AnyCode",
    "AssembleError",
    "BadHeaderError",
    "BadJsonError",
    "BadMarshalError",
    "BadPycError",
    "BadTableError",
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
    "Code310",
    "Code311",
    "Code311a",
    "Code38",
    "CodeLayout",
    "CodePyPy416",
    "CodePyPy432",
    "Complex",
    "DictValue",
    "Difference",
    "ExceptionTableEntry",
    "FLAG_CHECK_SOURCE",
    "FLAG_HASH_BASED",
    "Float",
    "FrozenDict",
    "FrozenSetValue",
    "HostCodeError",
    "Instruction",
    "Int",
    "LinetableEntry",
    "ListValue",
    "LnotabEntry",
    "LocationEntry",
    "Long",
    "NestingTooDeepError",
    "NoOpcodeTableError",
    "NoPythonValueError",
    "NotPycError",
    "NotRegularFileError",
    "OpcodeTable",
    "PycError",
    "PycFile",
    "PycFormat",
    "PycHeader",
    "PypyPositionEntry",
    "PythonVersion",
    "SetValue",
    "Singleton",
    "Slice",
    "Str",
    "TruncatedError",
    "TupleValue",
    "Unhashable",
    "UnknownMagicError",
    "UnwritableError",
    "Value",
    "as_version",
    "assemble",
    "build_linetable",
    "build_locations",
    "code_class",
    "decode_exception_table",
    "decode_linetable",
    "decode_lnotab",
    "decode_locations",
    "decode_pypy_positions",
    "diff",
    "disassemble",
    "dump",
    "dumps",
    "encode_exception_table",
    "encode_linetable",
    "encode_lnotab",
    "encode_locations",
    "encode_positions",
    "encode_pypy_positions",
    "exception_table",
    "format_for_magic",
    "format_for_version",
    "from_code",
    "from_json",
    "from_python",
    "get_instructions",
    "known_formats",
    "line_starts",
    "lines",
    "load",
    "loads",
    "marshal",
    "new_instruction",
    "normalize",
    "opcode_table",
    "opcode_table_versions",
    "positions",
    "read_header",
    "register_magic",
    "replace_constants",
    "replace_filename",
    "restamp",
    "scan_file",
    "scan_headers",
    "source_hash",
    "source_stamp",
    "strip_refs",
    "to_code",
    "to_hash_based",
    "to_json",
    "to_python",
    "to_timestamp",
]
