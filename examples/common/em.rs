//! The synthetic EM image the benchmark examples share (`corpus`, `zarr`).

/// An EM-like intensity in 0..255 at (x, y): bright cytoplasm, dark cell membranes (a jittered
/// Voronoi tessellation), a few dark vesicles, slow shading and shot noise.
pub fn em(x: u32, y: u32, seed: u64) -> f32 {
    const CELL: u32 = 96;
    let (cx, cy) = (x / CELL, y / CELL);
    let (mut d1, mut d2, mut nearest) = (f32::MAX, f32::MAX, 0u64);
    for gy in cy.saturating_sub(1)..=cy + 1 {
        for gx in cx.saturating_sub(1)..=cx + 1 {
            let h = hash(seed, u64::from(gx), u64::from(gy));
            let px = (gx * CELL) as f32 + (h & 0xFF) as f32 / 255.0 * CELL as f32;
            let py = (gy * CELL) as f32 + ((h >> 8) & 0xFF) as f32 / 255.0 * CELL as f32;
            let d = (px - x as f32).powi(2) + (py - y as f32).powi(2);
            if d < d1 {
                (d2, d1, nearest) = (d1, d, h);
            } else if d < d2 {
                d2 = d;
            }
        }
    }
    let (d1, d2) = (d1.sqrt(), d2.sqrt());
    let membrane = (-(d2 - d1).powi(2) / 6.0).exp();
    let vesicle = if d1 < 4.0 + (nearest >> 16 & 7) as f32 {
        0.5
    } else {
        0.0
    };
    let cytoplasm = 150.0 + ((nearest >> 24) & 0x3F) as f32;
    let shading = 20.0 * ((x as f32 / 700.0).sin() + (y as f32 / 900.0).cos());
    let noise = (hash(seed ^ 0x9e37, u64::from(x), u64::from(y)) & 0x3F) as f32 - 32.0;
    (cytoplasm * (1.0 - 0.75 * membrane - vesicle) + shading + noise).clamp(0.0, 255.0)
}

/// A cheap, well-mixed integer hash (SplitMix64 finaliser).
pub fn hash(seed: u64, a: u64, b: u64) -> u64 {
    let mut z =
        seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
