//! The size-budget checker: every shipped artifact stays under its limit.
//!
//! A budget file (TOML) lists artifacts:
//!
//! ```toml
//! [[artifact]]
//! name = "EfficientNet-Lite0 int8"          # optional, defaults to the path
//! path = "demo-models/*/model.onnx"         # relative to the budget file; globs allowed
//! max_bytes = 6_000_000                     # raw size limit (optional)
//! max_gzip_bytes = 5_000_000                # gzip -9 size limit (optional)
//! max_stripped_bytes = 4_000_000            # size after `strip` (native binaries, optional)
//! min_page_align = 16384                    # smallest allowed ELF LOAD segment alignment (optional)
//! optional = false                          # when true, a missing artifact is skipped, not a failure
//! ```
//!
//! `min_page_align` is for native libraries and binaries: Android 15+ devices (and Google Play)
//! need every `PT_LOAD` segment aligned to 16 KB pages, which a library linked for 4 KB pages is not.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A budget file that is malformed, or an artifact that cannot be measured.
#[derive(Debug, thiserror::Error)]
#[error("budget: {0}")]
pub struct BudgetError(pub String);

type Result<T> = std::result::Result<T, BudgetError>;

fn io_error(path: &Path, e: std::io::Error) -> BudgetError {
    BudgetError(format!("{}: {e}", path.display()))
}

/// A parsed budget file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// The artifacts and their limits.
    #[serde(rename = "artifact", default)]
    pub artifacts: Vec<Artifact>,
}

/// One budget line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// Display name.
    pub name: Option<String>,
    /// Path or glob, relative to the budget file.
    pub path: String,
    /// Limit on the raw size.
    pub max_bytes: Option<u64>,
    /// Limit on the gzip (level 9) size.
    pub max_gzip_bytes: Option<u64>,
    /// Limit on the size after stripping symbols (`$STRIP` or `strip`).
    pub max_stripped_bytes: Option<u64>,
    /// Smallest allowed alignment (bytes) of the ELF file's `PT_LOAD` segments: 16384 for libraries
    /// that must load on 16 KB page devices. A file that is not ELF fails the check.
    pub min_page_align: Option<u64>,
    /// A missing optional artifact is reported as skipped instead of failing the check.
    #[serde(default)]
    pub optional: bool,
}

/// Outcome of one artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Within every limit.
    Ok,
    /// Over at least one limit.
    Over,
    /// Not found (and not optional).
    Missing,
    /// Not found, optional.
    Skipped,
    /// An ELF `PT_LOAD` segment is aligned below `min_page_align`.
    Misaligned,
    /// Cannot be checked: `min_page_align` is set on a file that is not a readable ELF file.
    Error,
}

/// One measured artifact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Display name.
    pub name: String,
    /// The file measured (the pattern when missing).
    pub path: String,
    /// Raw bytes.
    pub bytes: Option<u64>,
    /// gzip -9 bytes.
    pub gzip_bytes: Option<u64>,
    /// Bytes after stripping, when a stripped limit is set.
    pub stripped_bytes: Option<u64>,
    /// The binding limit: `(what, limit, measured)` with the least headroom.
    pub tightest: Option<(String, u64, u64)>,
    /// The smallest `p_align` of the ELF `PT_LOAD` segments, when `min_page_align` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_align: Option<u64>,
    /// The artifact's `min_page_align`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_page_align: Option<u64>,
    /// What is wrong and what to do, for `Misaligned` and `Error` rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Outcome.
    pub status: Status,
}

impl Row {
    /// Bytes left under the tightest limit (negative when over).
    pub fn headroom(&self) -> Option<i64> {
        self.tightest
            .as_ref()
            .map(|(_, limit, got)| *limit as i64 - *got as i64)
    }
}

/// The result of a check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// One row per artifact file.
    pub rows: Vec<Row>,
}

impl Report {
    /// True when nothing is over or missing.
    pub fn passed(&self) -> bool {
        self.rows
            .iter()
            .all(|r| matches!(r.status, Status::Ok | Status::Skipped))
    }

    /// A plain-text table.
    pub fn to_table(&self) -> String {
        let cells = self.cells();
        let head = self.head();
        let widths: Vec<usize> = (0..head.len())
            .map(|i| {
                cells
                    .iter()
                    .map(|r| r[i].chars().count())
                    .chain([head[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |r: &[String]| {
            r.iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (c, w))| {
                    if i == 0 {
                        format!("{c:<w$}")
                    } else {
                        format!("{c:>w$}")
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        let head: Vec<String> = head.iter().map(|h| h.to_string()).collect();
        let mut out = line(&head);
        out.push('\n');
        for r in &cells {
            out.push_str(&line(r));
            out.push('\n');
        }
        for (r, message) in self.messages() {
            out.push_str(&format!("{} ({}): {message}\n", r.name, r.path));
        }
        out.push_str(if self.passed() {
            "budget: OK\n"
        } else {
            "budget: FAILED\n"
        });
        out
    }

    /// A GitHub-flavoured Markdown table.
    pub fn to_markdown(&self) -> String {
        let head = self.head();
        let align = |h: &&str| {
            if *h == "artifact" || *h == "status" {
                "---"
            } else {
                "---:"
            }
        };
        let mut out = format!(
            "| {} |\n|{}|\n",
            head.join(" | "),
            head.iter().map(align).collect::<Vec<_>>().join("|")
        );
        for r in self.cells() {
            out.push_str(&format!("| {} |\n", r.join(" | ")));
        }
        let messages = self.messages();
        if !messages.is_empty() {
            out.push('\n');
        }
        for (r, message) in messages {
            out.push_str(&format!("- **{}** (`{}`): {message}\n", r.name, r.path));
        }
        out
    }

    /// JSON (`{"passed": bool, "rows": [...]}`).
    pub fn to_json(&self) -> String {
        serde_json::json!({ "passed": self.passed(), "rows": self.rows }).to_string()
    }

    /// True when some artifact has a `min_page_align`: the tables get an `align` column.
    fn checks_align(&self) -> bool {
        self.rows.iter().any(|r| r.min_page_align.is_some())
    }

    fn head(&self) -> Vec<&'static str> {
        let mut head = vec!["artifact", "size", "gzip", "limit", "headroom"];
        if self.checks_align() {
            head.push("align");
        }
        head.push("status");
        head
    }

    fn messages(&self) -> Vec<(&Row, &str)> {
        self.rows
            .iter()
            .filter_map(|r| Some((r, r.message.as_deref()?)))
            .collect()
    }

    fn cells(&self) -> Vec<Vec<String>> {
        let size = |b: Option<u64>| b.map_or_else(|| "-".to_string(), human);
        let align_column = self.checks_align();
        self.rows
            .iter()
            .map(|r| {
                let align = match (r.page_align, r.min_page_align) {
                    (Some(got), Some(min)) => {
                        format!("{} (min {})", page_size(got), page_size(min))
                    }
                    (None, Some(min)) => format!("- (min {})", page_size(min)),
                    _ => "-".into(),
                };
                let mut cells = vec![
                    format!("{} ({})", r.name, r.path),
                    size(r.bytes),
                    size(r.gzip_bytes),
                    r.tightest
                        .as_ref()
                        .map_or("-".into(), |(what, l, _)| format!("{} {what}", human(*l))),
                    r.headroom().map_or("-".into(), |h| {
                        let s = human(h.unsigned_abs());
                        if h < 0 {
                            format!("-{s}")
                        } else {
                            s
                        }
                    }),
                ];
                if align_column {
                    cells.push(align);
                }
                cells.push(format!("{:?}", r.status).to_uppercase());
                cells
            })
            .collect()
    }
}

/// A page size or alignment in binary units (`16 KiB`, `64 KiB`; bytes when not a multiple of 1 KiB).
pub fn page_size(bytes: u64) -> String {
    if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

/// Human-readable byte count (`5.12 MB`, decimal units).
pub fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{:.2} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.1} kB", b as f64 / 1e3),
        b => format!("{b} B"),
    }
}

impl Budget {
    /// Parses budget TOML.
    pub fn from_toml(text: &str) -> Result<Budget> {
        let b: Budget =
            toml::from_str(text).map_err(|e| BudgetError(ledge::manifest::toml_error(text, &e)))?;
        if b.artifacts.is_empty() {
            return Err(BudgetError("no [[artifact]] entries".into()));
        }
        for a in &b.artifacts {
            if a.path.is_empty() {
                return Err(BudgetError("an artifact has an empty path".into()));
            }
            if a.max_bytes.is_none()
                && a.max_gzip_bytes.is_none()
                && a.max_stripped_bytes.is_none()
                && a.min_page_align.is_none()
            {
                return Err(BudgetError(format!("artifact '{}' sets no limit", a.path)));
            }
            if let Some(align) = a.min_page_align {
                if !align.is_power_of_two() {
                    return Err(BudgetError(format!(
                        "artifact '{}': min_page_align = {align} is not a power of two (16384 for 16 KB pages)",
                        a.path
                    )));
                }
            }
        }
        Ok(b)
    }

    /// Reads a budget file.
    ///
    /// # Errors
    /// The file cannot be read or is not a valid budget.
    pub fn read(path: &Path) -> Result<Budget> {
        let text = std::fs::read_to_string(path).map_err(|e| io_error(path, e))?;
        Budget::from_toml(&text).map_err(|e| {
            BudgetError(format!(
                "{}: {}",
                path.display(),
                e.to_string().trim_start_matches("budget: ")
            ))
        })
    }

    /// Keeps the artifacts whose `path`, as written in the budget, matches one of `only` (all when
    /// `only` is empty) and none of `skip`: the test command checks what it builds, and
    /// `scripts/build-pi.sh` checks the Raspberry Pi archives where they are built.
    ///
    /// # Errors
    /// A bad glob, or a filter that leaves no artifact (a typo would otherwise pass silently).
    pub fn select(&mut self, only: &[String], skip: &[String]) -> Result<()> {
        let compile = |globs: &[String]| -> Result<Vec<glob::Pattern>> {
            globs
                .iter()
                .map(|g| {
                    glob::Pattern::new(g)
                        .map_err(|e| BudgetError(format!("bad filter pattern '{g}': {e}")))
                })
                .collect()
        };
        let (only, skip) = (compile(only)?, compile(skip)?);
        let paths: Vec<String> = self.artifacts.iter().map(|a| a.path.clone()).collect();
        self.artifacts.retain(|a| {
            (only.is_empty() || only.iter().any(|p| p.matches(&a.path)))
                && !skip.iter().any(|p| p.matches(&a.path))
        });
        if self.artifacts.is_empty() {
            return Err(BudgetError(format!(
                "the filters (--only {:?}, --skip {:?}) leave no artifact; the budget's paths are: {}",
                only.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
                skip.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
                paths.join(", ")
            )));
        }
        Ok(())
    }

    /// Measures every artifact, resolving paths against `root`.
    pub fn check(&self, root: &Path) -> Result<Report> {
        let mut rows = vec![];
        for a in &self.artifacts {
            let pattern = root.join(&a.path);
            let pattern = pattern.to_string_lossy();
            let files: Vec<PathBuf> = glob::glob(&pattern)
                .map_err(|e| BudgetError(format!("bad pattern '{}': {e}", a.path)))?
                .filter_map(|p| p.ok())
                .filter(|p| p.is_file())
                .collect();
            if files.is_empty() {
                rows.push(Row {
                    name: a.name.clone().unwrap_or_else(|| a.path.clone()),
                    path: a.path.clone(),
                    bytes: None,
                    gzip_bytes: None,
                    stripped_bytes: None,
                    tightest: None,
                    page_align: None,
                    min_page_align: a.min_page_align,
                    message: None,
                    status: if a.optional {
                        Status::Skipped
                    } else {
                        Status::Missing
                    },
                });
            }
            for file in files {
                rows.push(measure(a, root, &file)?);
            }
        }
        Ok(Report { rows })
    }
}

/// The folder a budget file's paths are relative to.
pub fn budget_root(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

fn measure(a: &Artifact, root: &Path, file: &Path) -> Result<Row> {
    let bytes = std::fs::read(file).map_err(|e| io_error(file, e))?;
    let raw = bytes.len() as u64;
    let gzip = a.max_gzip_bytes.map(|_| gzip_len(&bytes)).transpose()?;
    let stripped = a
        .max_stripped_bytes
        .map(|_| stripped_len(file))
        .transpose()?;
    let checks = [
        ("raw", a.max_bytes, Some(raw)),
        ("gzip", a.max_gzip_bytes, gzip),
        ("stripped", a.max_stripped_bytes, stripped),
    ];
    let tightest = checks
        .iter()
        .filter_map(|(what, limit, got)| Some((what.to_string(), (*limit)?, (*got)?)))
        .min_by_key(|(_, l, g)| *l as i64 - *g as i64);
    let over = checks
        .iter()
        .any(|(_, l, g)| matches!((l, g), (Some(l), Some(g)) if g > l));
    let rel = file
        .strip_prefix(root)
        .unwrap_or(file)
        .to_string_lossy()
        .into_owned();
    let mut status = if over { Status::Over } else { Status::Ok };
    let (mut page_align, mut message) = (None, None);
    if let Some(min) = a.min_page_align {
        match min_load_align(&bytes) {
            Ok(got) => {
                page_align = Some(got);
                if got < min {
                    status = Status::Misaligned;
                    message = Some(format!(
                        "LOAD segments aligned to {} (0x{got:x}), the minimum is {} (0x{min:x}): it will \
                         not load on devices with {} memory pages (Android 15+ / Google Play); link it \
                         with -Wl,-z,max-page-size={min}",
                        page_size(got),
                        page_size(min),
                        page_size(min)
                    ));
                }
            }
            Err(e) => {
                status = Status::Error;
                message = Some(format!(
                    "min_page_align is set but the page alignment cannot be read: {e}"
                ));
            }
        }
    }
    Ok(Row {
        name: a.name.clone().unwrap_or_else(|| rel.clone()),
        path: rel,
        bytes: Some(raw),
        gzip_bytes: gzip,
        stripped_bytes: stripped,
        tightest,
        page_align,
        min_page_align: a.min_page_align,
        message,
        status,
    })
}

/// The smallest alignment (`p_align`) of an ELF file's `PT_LOAD` segments, 32- or 64-bit, either
/// byte order: the largest memory page size the file can be loaded with. An error names what is
/// wrong (not ELF, truncated, no LOAD segment).
pub fn min_load_align(bytes: &[u8]) -> std::result::Result<u64, String> {
    use goblin::elf::{program_header::PT_LOAD, Elf, ProgramHeader};
    let header = Elf::parse_header(bytes).map_err(|e| format!("not an ELF file ({e})"))?;
    let ctx = goblin::container::Ctx::new(
        header
            .container()
            .map_err(|e| format!("bad ELF header: {e}"))?,
        header
            .endianness()
            .map_err(|e| format!("bad ELF header: {e}"))?,
    );
    let offset = usize::try_from(header.e_phoff).map_err(|e| format!("bad ELF header: {e}"))?;
    ProgramHeader::parse(bytes, offset, header.e_phnum.into(), ctx)
        .map_err(|e| format!("unreadable ELF program headers: {e}"))?
        .iter()
        .filter(|p| p.p_type == PT_LOAD)
        .map(|p| p.p_align)
        .min()
        .ok_or_else(|| "the ELF file has no LOAD segment".to_string())
}

/// Size of `bytes` compressed with gzip level 9, header included (miniz_oxide: within ~1 % of
/// GNU `gzip -9`).
pub fn gzip_len(bytes: &[u8]) -> Result<u64> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)
        .and_then(|_| enc.finish())
        .map(|v| v.len() as u64)
        .map_err(|e| BudgetError(format!("gzip: {e}")))
}

fn stripped_len(file: &Path) -> Result<u64> {
    let tool = std::env::var("STRIP").unwrap_or_else(|_| "strip".into());
    let out = std::env::temp_dir().join(format!(
        "ledge-budget-{}-{}",
        std::process::id(),
        file.file_name().map_or("x".into(), |n| n.to_string_lossy())
    ));
    let status = std::process::Command::new(&tool)
        .arg("--strip-all")
        .arg("-o")
        .arg(&out)
        .arg(file)
        .status()
        .map_err(|e| {
            BudgetError(format!(
                "cannot run '{tool}' to measure the stripped size: {e}"
            ))
        })?;
    let len = std::fs::metadata(&out).map(|m| m.len());
    let _ = std::fs::remove_file(&out);
    match (status.success(), len) {
        (true, Ok(len)) => Ok(len),
        _ => Err(BudgetError(format!(
            "'{tool} --strip-all' failed on {}",
            file.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) {
        std::fs::write(dir.join(name), bytes).unwrap();
    }

    #[test]
    fn passes_and_fails_on_limits_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.bin", &[7u8; 1000]);
        write(dir.path(), "b.bin", &[1u8; 10]);
        let ok = Budget::from_toml(
            "[[artifact]]\npath = \"*.bin\"\nmax_bytes = 1000\nmax_gzip_bytes = 100\n\
             [[artifact]]\npath = \"gone\"\nmax_bytes = 1\noptional = true\n",
        )
        .unwrap();
        let report = ok.check(dir.path()).unwrap();
        assert!(report.passed(), "{}", report.to_table());
        assert_eq!(report.rows.len(), 3);
        assert_eq!(report.rows[2].status, Status::Skipped);
        let a = &report.rows[0];
        assert_eq!(
            (a.bytes, a.tightest.as_ref().map(|t| t.0.as_str())),
            (Some(1000), Some("raw"))
        );
        assert!(a.gzip_bytes.unwrap() < 100);

        let over = Budget::from_toml("[[artifact]]\npath = \"a.bin\"\nmax_bytes = 999\n").unwrap();
        let report = over.check(dir.path()).unwrap();
        assert!(!report.passed());
        assert_eq!(report.rows[0].status, Status::Over);
        assert_eq!(report.rows[0].headroom(), Some(-1));
        assert!(
            report.to_table().contains("OVER") && report.to_table().ends_with("budget: FAILED\n")
        );
        assert!(report.to_markdown().contains("| a.bin (a.bin) | 1.0 kB |"));
        assert!(report.to_json().starts_with("{\"passed\":false"));

        let missing = Budget::from_toml("[[artifact]]\npath = \"nope\"\nmax_bytes = 1\n").unwrap();
        assert_eq!(
            missing.check(dir.path()).unwrap().rows[0].status,
            Status::Missing
        );
    }

    #[test]
    fn select_keeps_what_only_matches_and_drops_what_skip_matches() {
        let budget = Budget::from_toml(
            "[[artifact]]\npath = \"dist/host/ledge\"\nmax_bytes = 1\n\
             [[artifact]]\npath = \"dist/ledge-*-aarch64-unknown-linux-gnu/bin/ledge\"\nmax_bytes = 1\n\
             [[artifact]]\npath = \"dist/ledge-*-armv7-unknown-linux-gnueabihf/bin/ledge\"\nmax_bytes = 1\n",
        )
        .unwrap();
        let paths = |b: &Budget| {
            b.artifacts
                .iter()
                .map(|a| a.path.clone())
                .collect::<Vec<_>>()
        };
        let select = |only: &[&str], skip: &[&str]| {
            let mut b = budget.clone();
            let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            b.select(&owned(only), &owned(skip)).map(|()| paths(&b))
        };
        assert_eq!(select(&[], &[]).unwrap(), paths(&budget));
        assert_eq!(select(&[], &["dist/ledge-*"]).unwrap(), ["dist/host/ledge"]);
        assert_eq!(
            select(&["dist/ledge-*-aarch64-*"], &[]).unwrap(),
            ["dist/ledge-*-aarch64-unknown-linux-gnu/bin/ledge"]
        );
        let none = select(&["dist/ledge-*"], &["dist/*"])
            .unwrap_err()
            .to_string();
        assert!(
            none.contains("leave no artifact") && none.contains("dist/host/ledge"),
            "{none}"
        );
        assert!(select(&["[oops"], &[]).is_err());
    }

    /// Tiny shared libraries linked for 4 KB and 16 KB pages, 64-bit (x86_64) and 32-bit (armv7);
    /// `tests/fixtures/elf/make.sh` makes them.
    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/elf")
    }

    #[test]
    fn reads_the_smallest_load_alignment_of_both_elf_classes() {
        for (file, align) in [
            ("x86_64-align-4096.so", 4096),
            ("x86_64-align-16384.so", 16384),
            ("armv7-align-4096.so", 4096),
            ("armv7-align-16384.so", 16384),
        ] {
            let bytes = std::fs::read(fixtures().join(file)).unwrap();
            assert_eq!(min_load_align(&bytes), Ok(align), "{file}");
        }
        let e = min_load_align(b"PK\x03\x04 not an ELF file").unwrap_err();
        assert!(e.starts_with("not an ELF file"), "{e}");
        let elf = std::fs::read(fixtures().join("x86_64-align-16384.so")).unwrap();
        assert!(
            min_load_align(&elf[..70]).is_err(),
            "truncated program headers"
        );
        assert_eq!(
            (page_size(16384), page_size(65536), page_size(100)),
            ("16 KiB".into(), "64 KiB".into(), "100 B".into())
        );
    }

    #[test]
    fn min_page_align_fails_4k_libraries_and_non_elf_files() {
        let budget = Budget::from_toml(
            "[[artifact]]\nname = \"16k\"\npath = \"*-align-16384.so\"\nmin_page_align = 16384\n\
             [[artifact]]\nname = \"4k\"\npath = \"x86_64-align-4096.so\"\nmax_bytes = 100000\nmin_page_align = 16384\n",
        )
        .unwrap();
        let report = budget.check(&fixtures()).unwrap();
        assert_eq!(report.rows.len(), 3, "{}", report.to_table());
        for r in &report.rows[..2] {
            assert_eq!(
                (r.status, r.page_align, r.message.as_deref()),
                (Status::Ok, Some(16384), None)
            );
        }
        let r = &report.rows[2];
        assert_eq!(
            (r.status, r.page_align, r.min_page_align),
            (Status::Misaligned, Some(4096), Some(16384))
        );
        let message = r.message.as_deref().unwrap();
        for needle in [
            "4 KiB (0x1000)",
            "minimum is 16 KiB (0x4000)",
            "-Wl,-z,max-page-size=16384",
        ] {
            assert!(message.contains(needle), "{needle}: {message}");
        }
        assert!(!report.passed());
        let table = report.to_table();
        assert!(table.lines().next().unwrap().contains("align"), "{table}");
        assert!(
            table.contains("4 KiB (min 16 KiB)") && table.contains("MISALIGNED"),
            "{table}"
        );
        assert!(
            table.contains(&format!("4k (x86_64-align-4096.so): {message}\n")),
            "{table}"
        );
        assert!(table.ends_with("budget: FAILED\n"), "{table}");
        let markdown = report.to_markdown();
        assert!(markdown.starts_with("| artifact | size | gzip | limit | headroom | align | status |\n|---|---:|---:|---:|---:|---:|---|\n"), "{markdown}");
        assert!(
            markdown.contains("| 16 KiB (min 16 KiB) | OK |")
                && markdown.contains("- **4k** (`x86_64-align-4096.so`): LOAD"),
            "{markdown}"
        );
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(
            (
                json["rows"][2]["status"].as_str(),
                json["rows"][2]["page_align"].as_u64(),
                json["rows"][2]["min_page_align"].as_u64()
            ),
            (Some("misaligned"), Some(4096), Some(16384))
        );

        // Not ELF: an error row, not an aborted check.
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "model.onnx", &[7u8; 100]);
        let budget =
            Budget::from_toml("[[artifact]]\npath = \"model.onnx\"\nmin_page_align = 16384\n")
                .unwrap();
        let report = budget.check(dir.path()).unwrap();
        let r = &report.rows[0];
        assert_eq!((r.status, r.page_align), (Status::Error, None));
        assert!(
            r.message.as_deref().unwrap().contains("not an ELF file"),
            "{r:?}"
        );
        assert!(
            !report.passed() && report.to_table().contains("- (min 16 KiB)"),
            "{}",
            report.to_table()
        );

        // Without min_page_align, no align column and no new JSON fields.
        let budget =
            Budget::from_toml("[[artifact]]\npath = \"model.onnx\"\nmax_bytes = 100\n").unwrap();
        let report = budget.check(dir.path()).unwrap();
        assert!(!report.to_table().contains("align") && !report.to_json().contains("page_align"));
    }

    #[test]
    fn malformed_budgets_are_budget_errors() {
        for text in [
            "",
            "[[artifact]]\npath = \"x\"\n",
            "[[artifact]]\npath = 3\nmax_bytes = 1\n",
            "[[artifact]]\npath=\"x\"\nmax_byte = 1\n",
            "[[artifact]]\npath = \"\"\nmax_bytes = 1\n",
            "[[artifact]]\npath = \"x\"\nmin_page_align = 10000\n",
            "[[artifact]]\npath = \"x\"\nmin_page_align = 0\n",
        ] {
            let e = Budget::from_toml(text).unwrap_err();
            assert!(e.to_string().starts_with("budget: "), "{text:?}: {e}");
        }
    }
}
