//! The tools-only half of Ledge, used by the `ledge` command (and the fuzz targets): the
//! size-budget checker and `.npy` tensor files. The device libraries (phones, browsers) do not
//! carry it.

pub mod budget;
pub mod npy;
