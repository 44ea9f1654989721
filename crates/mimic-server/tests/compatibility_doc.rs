//! `docs/compatibility.md` against the ARM catalogue (`arm::catalog()`, what the registered providers declare): every resource type
//! with its api-versions, and the locations, must be in the document exactly as the code serves
//! them, and the document may list nothing the catalogue does not. The document's machine-read
//! tables are the ones headed `| Type | api-versions |` (one row per type, the type in backticks as
//! `Namespace/type`, its api-versions comma-separated newest first, under the heading
//! `## ARM: Namespace`) and `| Location | Display name |`.

use std::collections::{HashMap, HashSet};

use mimic_server::arm::core::catalog::LOCATIONS;

const DOC_PATH: &str = "docs/compatibility.md";
const DOC: &str = include_str!("../../../docs/compatibility.md");

const VERSIONS_HEADER: &[&str] = &["Type", "api-versions"];
const LOCATIONS_HEADER: &[&str] = &["Location", "Display name"];

/// One row of a machine-read table: its line (1-based), the `## ` heading above it, its cells.
struct Row {
    line: usize,
    heading: String,
    cells: Vec<String>,
}

fn cells(line: &str) -> Option<Vec<String>> {
    let inner = line.trim().strip_prefix('|')?.strip_suffix('|')?;
    Some(inner.split('|').map(|c| c.trim().to_string()).collect())
}

fn is_separator(line: &str) -> bool {
    cells(line).is_some_and(|c| !c.is_empty() && c.iter().all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':')))
}

/// The rows of every table of `doc` whose header row is `header`; the number of such tables.
fn tables(doc: &str, header: &[&str]) -> (Vec<Row>, usize) {
    let lines: Vec<&str> = doc.lines().collect();
    let (mut rows, mut found) = (Vec::new(), 0);
    let mut heading = String::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some(h) = lines[i].strip_prefix("## ") {
            heading = h.trim().to_string();
        }
        let is_header = cells(lines[i]).is_some_and(|c| c == header);
        if is_header && lines.get(i + 1).is_some_and(|l| is_separator(l)) {
            found += 1;
            i += 2;
            while let Some(c) = lines.get(i).and_then(|l| cells(l)) {
                rows.push(Row { line: i + 1, heading: heading.clone(), cells: c });
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    (rows, found)
}

fn code(cell: &str) -> &str {
    cell.strip_prefix('`').and_then(|c| c.strip_suffix('`')).unwrap_or(cell)
}

/// Every disagreement between `doc` and the catalogue, each naming its row.
fn check(doc: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let catalogue: Vec<(String, &str, &[&str])> = mimic_server::arm::catalog()
        .iter()
        .flat_map(|p| p.types.iter().map(move |t| (format!("{}/{}", p.namespace, t.name), p.namespace, t.api_versions)))
        .collect();

    let (rows, found) = tables(doc, VERSIONS_HEADER);
    if found == 0 {
        errors.push(format!("{DOC_PATH}: no table headed `| Type | api-versions |`"));
    }
    let mut documented: HashMap<String, usize> = HashMap::new();
    for row in &rows {
        let at = format!("{DOC_PATH}:{}", row.line);
        let [ty, versions] = row.cells.as_slice() else {
            errors.push(format!("{at}: an api-versions row has {} cells, not 2 (`Type` | api-versions)", row.cells.len()));
            continue;
        };
        let ty = code(ty);
        if let Some(first) = documented.insert(ty.to_string(), row.line) {
            errors.push(format!("{at}: `{ty}` is listed again (first at line {first})"));
            continue;
        }
        let listed: Vec<&str> = versions.split(',').map(str::trim).filter(|v| !v.is_empty()).collect();
        let Some((_, namespace, served)) = catalogue.iter().find(|(name, ..)| name == ty) else {
            let hint = catalogue
                .iter()
                .find(|(name, ..)| name.eq_ignore_ascii_case(ty))
                .map(|(n, ..)| format!(" (the catalogue spells it `{n}`)"));
            errors.push(format!(
                "{at}: `{ty}` is not a resource type of the catalogue (the providers' registered_types){}",
                hint.unwrap_or_default()
            ));
            continue;
        };
        let want_heading = format!("ARM: {namespace}");
        if row.heading != want_heading {
            errors.push(format!("{at}: `{ty}` is under '## {}', not '## {want_heading}'", row.heading));
        }
        let mut seen = HashSet::new();
        let repeated: Vec<&str> = listed.iter().copied().filter(|v| !seen.insert(*v)).collect();
        let missing: Vec<&str> = served.iter().copied().filter(|v| !listed.contains(v)).collect();
        let extra: Vec<&str> = listed.iter().copied().filter(|v| !served.contains(v)).collect();
        if !repeated.is_empty() {
            errors.push(format!("{at}: `{ty}` lists {} more than once", repeated.join(", ")));
        }
        if !missing.is_empty() {
            errors.push(format!("{at}: `{ty}` is served with api-versions the document does not list: {}", missing.join(", ")));
        }
        if !extra.is_empty() {
            errors.push(format!("{at}: `{ty}` lists api-versions the catalogue does not serve: {}", extra.join(", ")));
        }
        if repeated.is_empty() && missing.is_empty() && extra.is_empty() && listed != *served {
            errors.push(format!(
                "{at}: `{ty}` lists its api-versions in another order than the catalogue (newest first): {}",
                served.join(", ")
            ));
        }
    }
    for (name, namespace, _) in &catalogue {
        if !documented.contains_key(name) {
            errors.push(format!(
                "{DOC_PATH}: `{name}` (the providers' registered_types) has no row in a `| Type | api-versions |` table under '## ARM: {namespace}'"
            ));
        }
    }

    let (rows, found) = tables(doc, LOCATIONS_HEADER);
    if found != 1 {
        errors.push(format!("{DOC_PATH}: {found} tables headed `| Location | Display name |`, not 1"));
    }
    let listed: Vec<(&str, &str, usize)> = rows
        .iter()
        .filter_map(|r| match r.cells.as_slice() {
            [name, display] => Some((code(name), display.as_str(), r.line)),
            _ => {
                errors.push(format!("{DOC_PATH}:{}: a location row has {} cells, not 2", r.line, r.cells.len()));
                None
            }
        })
        .collect();
    for (name, display, line) in &listed {
        match LOCATIONS.iter().find(|(n, _)| n == name) {
            None => errors.push(format!("{DOC_PATH}:{line}: location `{name}` is not in the catalogue's LOCATIONS")),
            Some((_, d)) if d != display => {
                errors.push(format!("{DOC_PATH}:{line}: location `{name}` is '{d}' in the catalogue, not '{display}'"))
            }
            Some(_) => {}
        }
    }
    for (name, _) in LOCATIONS {
        if !listed.iter().any(|(n, ..)| n == name) {
            errors.push(format!("{DOC_PATH}: location `{name}` (arm/core/catalog.rs LOCATIONS) has no row in the locations table"));
        }
    }
    let order: Vec<&str> = listed.iter().map(|(n, ..)| *n).collect();
    let served: Vec<&str> = LOCATIONS.iter().map(|(n, _)| *n).collect();
    if errors.is_empty() && order != served {
        errors.push(format!("{DOC_PATH}: the locations are in another order than the catalogue's: {}", served.join(", ")));
    }
    errors
}

#[test]
fn compatibility_doc_matches_the_catalog() {
    let errors = check(DOC);
    assert!(errors.is_empty(), "docs/compatibility.md disagrees with the ARM catalogue:\n  {}", errors.join("\n  "));
}

/// The check fails, naming the row, for each kind of drift.
#[test]
fn compatibility_doc_check_names_each_wrong_row() {
    let edit = |doc: &str, from: &str, to: &str| {
        assert!(doc.contains(from), "the document no longer contains {from:?}");
        doc.replacen(from, to, 1)
    };
    let uai = "| `Microsoft.ManagedIdentity/userAssignedIdentities` | ";
    let mut doc = edit(DOC, "2024-11-30, 2023-07-31-preview", "2023-07-31-preview");
    doc = edit(&doc, uai, &format!("{uai}2099-01-01, "));
    doc = edit(
        &doc,
        "| `Microsoft.Compute/disks` |",
        "| `Microsoft.Compute/virtualMachineScaleSets` | 2024-07-01 |\n| `Microsoft.Compute/disks` |",
    );
    doc = edit(&doc, "| `Microsoft.Network/publicIPAddresses` |", "| `Microsoft.Network/publicIpAddresses` |");
    doc = edit(&doc, "| `westus` | West US |\n", "");
    let errors = check(&doc);
    let expect = [
        "`Microsoft.ManagedIdentity/userAssignedIdentities` is served with api-versions the document does not list: 2024-11-30",
        "`Microsoft.ManagedIdentity/userAssignedIdentities` lists api-versions the catalogue does not serve: 2099-01-01",
        "`Microsoft.Compute/virtualMachineScaleSets` is not a resource type of the catalogue",
        "`Microsoft.Network/publicIpAddresses` is not a resource type of the catalogue (the providers' registered_types) (the catalogue spells it `Microsoft.Network/publicIPAddresses`)",
        "`Microsoft.Network/publicIPAddresses` (the providers' registered_types) has no row",
        "location `westus` (arm/core/catalog.rs LOCATIONS) has no row",
    ];
    for e in expect {
        assert!(errors.iter().any(|got| got.contains(e)), "no error containing {e:?} in:\n  {}", errors.join("\n  "));
    }
    assert_eq!(errors.len(), expect.len(), "{}", errors.join("\n"));
    let uai_line = doc.lines().position(|l| l.starts_with(uai)).map(|i| i + 1).unwrap_or_default();
    let uai_error = errors.iter().find(|e| e.contains(expect[0])).expect("found above");
    assert!(uai_error.starts_with(&format!("{DOC_PATH}:{uai_line}: ")), "the error names its line: {uai_error}");

    // A row under another namespace's heading, and a list in another order.
    let disks = DOC.lines().find(|l| l.starts_with("| `Microsoft.Compute/disks` |")).expect("disks row");
    let moved = edit(&edit(DOC, &format!("{disks}\n"), ""), uai, &format!("{disks}\n{uai}"));
    let errors = check(&moved);
    assert!(
        errors.len() == 1 && errors[0].contains("`Microsoft.Compute/disks` is under '## ARM: Microsoft.ManagedIdentity'"),
        "{errors:?}"
    );
    let swapped =
        edit(DOC, "| `Microsoft.Compute/disks` | 2025-01-02, 2024-03-02,", "| `Microsoft.Compute/disks` | 2024-03-02, 2025-01-02,");
    let errors = check(&swapped);
    assert!(errors.len() == 1 && errors[0].contains("in another order"), "{errors:?}");
}
