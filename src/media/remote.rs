//! What a remote volume's own metadata says (size, voxel size, sample type, levels), read over
//! HTTP(S) when the site is built, so its page states it without a script and without the
//! reader's browser asking the lab's server first. Only the metadata files are read: an OME-Zarr
//! group's `zarr.json` (NGFF 0.5) or `.zattrs` (0.4) and its first level's `zarr.json` or
//! `.zarray`, or a precomputed volume's `info`. The volume itself never passes through vitrine.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

/// How long one metadata request may take before the build goes on without it.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A remote volume's metadata, as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemoteInfo {
    /// Full-resolution `[x, y, z]` in voxels.
    pub size: [u64; 3],
    /// Channels (1 for gray).
    pub channels: u64,
    /// The sample type, e.g. `uint8`.
    pub data_type: String,
    /// `[x, y, z]` in nm, when the metadata states it in a length unit.
    pub voxel_size_nm: Option<[f64; 3]>,
    /// Resolution levels.
    pub levels: usize,
}

/// Reads the metadata of the volume at `http_location` in `format` (a `volume:` scheme); the
/// error says which file could not be read or understood.
pub fn describe_remote(format: &str, http_location: &str) -> Result<RemoteInfo, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .build()
        .into();
    let get = |name: &str| -> Result<Value, String> {
        let url = format!("{http_location}/{name}");
        let mut response = agent.get(&url).call().map_err(|e| format!("{url}: {e}"))?;
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("{url}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("{url} is not JSON: {e}"))
    };
    match format {
        "precomputed" => precomputed(&get("info")?),
        "zarr" | "zarr2" | "zarr3" => {
            let v3 = match format {
                "zarr2" => None,
                _ => get("zarr.json").ok(),
            };
            match v3 {
                Some(group) => {
                    let attributes = &group["attributes"];
                    let multiscales = attributes["ome"]["multiscales"]
                        .as_array()
                        .or(attributes["multiscales"].as_array());
                    ome_zarr(multiscales, |path| get(&format!("{path}/zarr.json")))
                }
                None => {
                    let attributes = get(".zattrs")?;
                    ome_zarr(attributes["multiscales"].as_array(), |path| {
                        get(&format!("{path}/.zarray"))
                    })
                }
            }
        }
        other => Err(format!("vitrine reads no {other} metadata")),
    }
}

/// A precomputed volume's `info`: its first scale is full resolution, sizes and resolutions
/// are `[x, y, z]` and resolutions are in nm.
fn precomputed(info: &Value) -> Result<RemoteInfo, String> {
    let bad = |what: &str| format!("its info file has no {what}");
    let scales = info["scales"].as_array().ok_or_else(|| bad("scales"))?;
    let first = scales.first().ok_or_else(|| bad("scales"))?;
    let size = triple_u64(&first["size"]).ok_or_else(|| bad("scales[0].size"))?;
    let resolution = triple_f64(&first["resolution"]);
    Ok(RemoteInfo {
        size,
        channels: info["num_channels"].as_u64().unwrap_or(1),
        data_type: info["data_type"]
            .as_str()
            .ok_or_else(|| bad("data_type"))?
            .to_string(),
        voxel_size_nm: resolution,
        levels: scales.len(),
    })
}

/// An OME-Zarr image: the axes and level 0's scale from `multiscales`, its shape and sample
/// type from the array metadata `array(path)` reads.
fn ome_zarr(
    multiscales: Option<&Vec<Value>>,
    array: impl Fn(&str) -> Result<Value, String>,
) -> Result<RemoteInfo, String> {
    let bad = |what: &str| format!("its OME-Zarr metadata has no {what}");
    let multiscale = multiscales
        .and_then(|m| m.first())
        .ok_or_else(|| bad("multiscales"))?;
    let datasets = multiscale["datasets"]
        .as_array()
        .filter(|d| !d.is_empty())
        .ok_or_else(|| bad("datasets"))?;
    let path = datasets[0]["path"]
        .as_str()
        .ok_or_else(|| bad("datasets[0].path"))?;
    let meta = array(path)?;
    let shape: Vec<u64> = meta["shape"]
        .as_array()
        .ok_or_else(|| bad("shape"))?
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    // Zarr v3 names the type (`uint8`), v2 by NumPy's code (`|u1`, `<u2`).
    let data_type = match (&meta["data_type"], &meta["dtype"]) {
        (Value::String(t), _) => t.clone(),
        (_, Value::String(code)) => numpy_type(code).ok_or_else(|| bad("known dtype"))?,
        _ => return Err(bad("data type")),
    };
    let axes: Vec<&Value> = multiscale["axes"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    // NGFF 0.4 and 0.5 name axes as objects; without axes the last three are z, y, x.
    let index = |name: &str| -> Option<usize> {
        match axes.is_empty() {
            true => shape.len().checked_sub(match name {
                "x" => 1,
                "y" => 2,
                _ => 3,
            }),
            false => axes.iter().position(|a| a["name"] == name),
        }
    };
    let (Some(x), Some(y)) = (index("x"), index("y")) else {
        return Err(bad("x and y axes"));
    };
    let z = index("z");
    let channels = index("c").and_then(|c| shape.get(c).copied()).unwrap_or(1);
    let scale: Option<Vec<f64>> = datasets[0]["coordinateTransformations"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["type"] == "scale"))
        .and_then(|t| t["scale"].as_array())
        .map(|s| s.iter().filter_map(Value::as_f64).collect());
    let nm = |axis: usize| -> Option<f64> {
        let unit = axes.get(axis).and_then(|a| a["unit"].as_str());
        Some(scale.as_ref()?.get(axis)? * unit_nm(unit?)?)
    };
    let voxel_size_nm = match (nm(x), nm(y), z.map(nm)) {
        (Some(vx), Some(vy), Some(Some(vz))) => Some([vx, vy, vz]),
        _ => None,
    };
    Ok(RemoteInfo {
        size: [
            shape.get(x).copied().unwrap_or(1),
            shape.get(y).copied().unwrap_or(1),
            z.and_then(|z| shape.get(z).copied()).unwrap_or(1),
        ],
        channels,
        data_type,
        voxel_size_nm,
        levels: datasets.len(),
    })
}

/// Nanometres per NGFF space unit.
fn unit_nm(unit: &str) -> Option<f64> {
    Some(match unit {
        "angstrom" => 0.1,
        "nanometer" => 1.0,
        "micrometer" => 1e3,
        "millimeter" => 1e6,
        "centimeter" => 1e7,
        "meter" => 1e9,
        _ => return None,
    })
}

/// The Zarr v3 name of a NumPy type code (`|u1` → `uint8`).
fn numpy_type(code: &str) -> Option<String> {
    let (kind, bytes) = code.trim_start_matches(['<', '>', '|', '=']).split_at(1);
    let bits = bytes.parse::<u32>().ok()? * 8;
    Some(match kind {
        "u" => format!("uint{bits}"),
        "i" => format!("int{bits}"),
        "f" => format!("float{bits}"),
        "b" => "bool".to_string(),
        _ => return None,
    })
}

fn triple_u64(v: &Value) -> Option<[u64; 3]> {
    let a = v.as_array()?;
    Some([
        a.first()?.as_u64()?,
        a.get(1)?.as_u64()?,
        a.get(2)?.as_u64()?,
    ])
}

fn triple_f64(v: &Value) -> Option<[f64; 3]> {
    let a = v.as_array()?;
    Some([
        a.first()?.as_f64()?,
        a.get(1)?.as_f64()?,
        a.get(2)?.as_f64()?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn precomputed_info_is_read() {
        let info = json!({"data_type": "uint8", "num_channels": 1, "type": "image",
            "scales": [{"size": [2048, 1024, 300], "resolution": [8, 8, 40]},
                       {"size": [1024, 512, 300], "resolution": [16, 16, 40]}]});
        let got = precomputed(&info).unwrap();
        assert_eq!(got.size, [2048, 1024, 300]);
        assert_eq!(got.voxel_size_nm, Some([8.0, 8.0, 40.0]));
        assert_eq!(got.levels, 2);
    }

    #[test]
    fn ome_zarr_04_with_channels_and_micrometres() {
        let multiscales = vec![json!({
            "axes": [{"name": "c", "type": "channel"},
                     {"name": "z", "type": "space", "unit": "micrometer"},
                     {"name": "y", "type": "space", "unit": "micrometer"},
                     {"name": "x", "type": "space", "unit": "micrometer"}],
            "datasets": [{"path": "s0", "coordinateTransformations":
                [{"type": "scale", "scale": [1.0, 0.5, 0.25, 0.25]}]}],
        })];
        let got = ome_zarr(Some(&multiscales), |path| {
            assert_eq!(path, "s0");
            Ok(json!({"shape": [2, 10, 300, 400], "dtype": "<u2"}))
        })
        .unwrap();
        assert_eq!(got.size, [400, 300, 10]);
        assert_eq!(got.channels, 2);
        assert_eq!(got.data_type, "uint16");
        assert_eq!(got.voxel_size_nm, Some([250.0, 250.0, 500.0]));
    }
}
