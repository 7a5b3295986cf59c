//! Any text as a budget file, checked against an empty folder (so every artifact is missing).
//! Absolute paths and `..` are legal in a budget (a developer's own file) but would let the
//! fuzzer glob the whole disk, so those budgets are only parsed.
#![no_main]

use ledge_cli::budget::Budget;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(budget) = Budget::from_toml(text) {
        if budget
            .artifacts
            .iter()
            .any(|a| a.path.starts_with('/') || a.path.contains(".."))
        {
            return;
        }
        if let Ok(report) = budget.check(std::path::Path::new("/nonexistent-ledge-fuzz")) {
            let _ = (
                report.to_table(),
                report.to_markdown(),
                report.to_json(),
                report.passed(),
            );
        }
    }
});
