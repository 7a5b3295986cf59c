//! Pure compute: the integer kernels behind the engine's int8 operators. No tract, no I/O;
//! every kernel has a portable version and is tested against its definition.

pub(crate) mod int8;
