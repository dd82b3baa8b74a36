"""The closed vocabularies of the contract as types, so a caller's type checker sees a typo.

The values are those of `dua_schemas.records`; validation at run time stays with
`dua_schemas.validate_event` (a caller without a type checker still gets `InvalidEvent`).
"""

from __future__ import annotations

from typing import Literal

ActorKind = Literal["SERVICE", "EMPLOYEE", "USER", "PARTNER", "BATCH_JOB"]
Operation = Literal["READ", "WRITE", "DELETE", "EXPORT", "SHARE", "JOIN"]
Processing = Literal["RAW", "PSEUDONYMIZED", "STATISTICAL"]
DestinationKind = Literal[
    "INTERNAL",
    "GROUP_SERVICE",
    "CLIENT",
    "AD_PLATFORM",
    "EMPLOYER",
    "PUBLIC",
    "FINANCIAL_INSTITUTION",
]
FsyncPolicy = Literal["always", "interval", "never"]
Compression = Literal["lz4", "zstd"]
