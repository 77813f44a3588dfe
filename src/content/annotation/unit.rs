//! Length units as webKnossos writes them: the words its Python library's
//! `length_unit_from_str` accepts (each `LengthUnit` in full and abbreviated, case-sensitive),
//! plus `um` and `μm` (Greek mu) for keyboards without `µ`.
//!
//! One table serves the NML `<scale unit="…">` attribute and the descriptor's `unit` field, so
//! both accept the same words and refuse the same way.

/// `(accepted spellings, nanometres per unit)`; the first spelling is the one messages show.
const UNITS: &[(&[&str], f64)] = &[
    (&["yoctometer", "ym"], 1e-15),
    (&["zeptometer", "zm"], 1e-12),
    (&["attometer", "am"], 1e-9),
    (&["femtometer", "fm"], 1e-6),
    (&["picometer", "pm"], 1e-3),
    (&["angstrom", "Å"], 0.1),
    (&["nanometer", "nm"], 1.0),
    (&["micrometer", "µm", "um", "μm"], 1e3),
    (&["millimeter", "mm"], 1e6),
    (&["centimeter", "cm"], 1e7),
    (&["decimeter", "dm"], 1e8),
    (&["meter", "m"], 1e9),
    (&["hectometer", "hm"], 1e11),
    (&["kilometer", "km"], 1e12),
    (&["megameter", "Mm"], 1e15),
    (&["gigameter", "Gm"], 1e18),
    (&["terameter", "Tm"], 1e21),
    (&["petameter", "Pm"], 1e24),
    (&["exameter", "Em"], 1e27),
    (&["zettameter", "Zm"], 1e30),
    (&["yottameter", "Ym"], 1e33),
    (&["inch", "in"], 25.4e6),
    (&["foot", "ft"], 304.8e6),
    (&["yard", "yd"], 914.4e6),
    (&["mile", "mi"], 1_609_344e6),
    (&["parsec", "pc"], 3.085_677_581e25),
];

/// Nanometres per `unit`, or `None` for a word webKnossos does not write. Case matters, as in
/// webKnossos: `Mm` is a megametre and `mm` a millimetre.
pub fn nm_per(unit: &str) -> Option<f64> {
    UNITS
        .iter()
        .find(|(names, _)| names.contains(&unit.trim()))
        .map(|(_, nm)| *nm)
}

/// The accepted words for a message: `nanometer (nm), micrometer (µm, um, μm), …`.
pub fn accepted() -> String {
    UNITS
        .iter()
        .map(|(names, _)| format!("{} ({})", names[0], names[1..].join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_is_found_and_case_matters() {
        for (names, nm) in UNITS {
            for name in *names {
                assert_eq!(nm_per(name), Some(*nm), "{name}");
            }
        }
        assert_eq!(nm_per("mm"), Some(1e6));
        assert_eq!(nm_per("Mm"), Some(1e15));
        assert_eq!(nm_per("furlong"), None);
        assert!(accepted().contains("micrometer (µm, um, μm)"));
    }
}
