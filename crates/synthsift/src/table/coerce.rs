//! Converting a column to another kind, as the reference converts synthetic
//! and holdout columns to the training column's dtype.
//!
//! The reference first turns every numeric column into nullable floats and
//! every other non-datetime column into Python objects, then applies
//! `pd.to_numeric(errors="coerce")`, `pd.to_datetime(errors="coerce")` or
//! `astype(object)`. Values that do not convert become missing; their count
//! is reported so a user sees why a kind mismatch lowers the score.

use super::kinds::{parse_number, python_float_repr};
use super::{ColumnData, ColumnKind, MISSING};

/// A column converted to another kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Coerced {
    pub data: ColumnData,
    /// Values that were present but could not be converted (now missing).
    pub unconvertible: usize,
}

/// Converts `data` to `kind` (a no-op when it already is of that kind).
pub fn coerce(data: &ColumnData, kind: ColumnKind) -> Coerced {
    let done = |data| Coerced {
        data,
        unconvertible: 0,
    };
    match (data, kind) {
        (d, k) if d.kind() == k => done(d.clone()),
        (ColumnData::Categorical { codes, dict }, ColumnKind::Numeric) => {
            let parsed: Vec<f64> = dict
                .iter()
                .map(|s| parse_number(s).unwrap_or(f64::NAN))
                .collect();
            let mut unconvertible = 0;
            let values = codes
                .iter()
                .map(|&c| {
                    if c == MISSING {
                        return f64::NAN;
                    }
                    let v = parsed[c as usize];
                    if v.is_nan() {
                        unconvertible += 1;
                    }
                    v
                })
                .collect();
            Coerced {
                data: ColumnData::Numeric(values),
                unconvertible,
            }
        }
        (ColumnData::Categorical { codes, dict }, ColumnKind::Datetime) => {
            let parsed: Vec<Option<i64>> = dict.iter().map(|s| parse_datetime(s)).collect();
            let mut unconvertible = 0;
            let values = codes
                .iter()
                .map(|&c| {
                    if c == MISSING {
                        return None;
                    }
                    let v = parsed[c as usize];
                    if v.is_none() {
                        unconvertible += 1;
                    }
                    v
                })
                .collect();
            Coerced {
                data: ColumnData::Datetime(values),
                unconvertible,
            }
        }
        (ColumnData::Numeric(values), ColumnKind::Categorical) => {
            // Nullable floats become Python floats: 3 -> "3.0".
            done(from_strings(
                values
                    .iter()
                    .map(|v| (!v.is_nan()).then(|| python_float_repr(*v))),
            ))
        }
        (ColumnData::Datetime(values), ColumnKind::Categorical) => {
            done(from_strings(values.iter().map(|v| v.map(format_timestamp))))
        }
        (ColumnData::Numeric(values), ColumnKind::Datetime) => done(ColumnData::Datetime(
            values
                .iter()
                .map(|v| (!v.is_nan()).then_some(*v as i64))
                .collect(),
        )),
        (ColumnData::Datetime(values), ColumnKind::Numeric) => done(ColumnData::Numeric(
            values
                .iter()
                .map(|v| v.map_or(f64::NAN, |v| v as f64))
                .collect(),
        )),
        _ => unreachable!("every pair of kinds is covered above"),
    }
}

fn from_strings(values: impl Iterator<Item = Option<String>>) -> ColumnData {
    let mut dict: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let codes = values
        .map(|v| match v {
            None => MISSING,
            Some(s) => *index.entry(s.clone()).or_insert_with(|| {
                dict.push(s);
                (dict.len() - 1) as u32
            }),
        })
        .collect();
    ColumnData::Categorical { codes, dict }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Parses ISO 8601 dates and times (`2024-05-01`, `2024-05-01 13:45:00`,
/// `2024-05-01T13:45:00.123`), as nanoseconds since the epoch. Time zones
/// are not read.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = match s.find(['T', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut nanos = days_from_civil(y, m, d) * 86_400_000_000_000;
    if let Some(time) = time {
        let mut hms = time.split(':');
        let h: i64 = hms.next()?.parse().ok()?;
        let mi: i64 = hms.next().map_or(Some(0), |v| v.parse().ok())?;
        let sec = hms.next().unwrap_or("0");
        let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
        let sec: i64 = whole.parse().ok()?;
        let frac_nanos: i64 = if frac.is_empty() {
            0
        } else {
            let digits: String = frac.chars().take(9).collect();
            digits.parse::<i64>().ok()? * 10i64.pow(9 - digits.len() as u32)
        };
        nanos += ((h * 60 + mi) * 60 + sec) * 1_000_000_000 + frac_nanos;
    }
    Some(nanos)
}

/// `str(pd.Timestamp)`: `2024-05-01 13:45:00`, with fractional seconds when
/// there are any.
pub fn format_timestamp(nanos: i64) -> String {
    let days = nanos.div_euclid(86_400_000_000_000);
    let rest = nanos.rem_euclid(86_400_000_000_000);
    let (y, m, d) = civil_from_days(days);
    let secs = rest / 1_000_000_000;
    let frac = rest % 1_000_000_000;
    let base = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if frac == 0 {
        base
    } else if frac % 1000 == 0 {
        format!("{base}.{:06}", frac / 1000)
    } else {
        format!("{base}.{frac:09}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_to_numbers_counts_failures() {
        let data = ColumnData::Categorical {
            codes: vec![0, 1, MISSING, 2],
            dict: vec!["1.5".into(), "oops".into(), "3".into()],
        };
        let c = coerce(&data, ColumnKind::Numeric);
        assert_eq!(c.unconvertible, 1);
        let ColumnData::Numeric(v) = c.data else {
            panic!()
        };
        assert_eq!(v[0], 1.5);
        assert!(v[1].is_nan() && v[2].is_nan());
        assert_eq!(v[3], 3.0);
    }

    #[test]
    fn numbers_to_text_as_python_floats() {
        let c = coerce(
            &ColumnData::Numeric(vec![3.0, f64::NAN, 0.25]),
            ColumnKind::Categorical,
        );
        let ColumnData::Categorical { codes, dict } = c.data else {
            panic!()
        };
        assert_eq!(dict, vec!["3.0".to_string(), "0.25".to_string()]);
        assert_eq!(codes, vec![0, MISSING, 1]);
    }

    #[test]
    fn datetimes_round_trip() {
        let t = parse_datetime("2024-02-29 13:45:01.5").unwrap();
        assert_eq!(format_timestamp(t), "2024-02-29 13:45:01.500000");
        assert_eq!(parse_datetime("1970-01-02"), Some(86_400_000_000_000));
        assert_eq!(format_timestamp(0), "1970-01-01 00:00:00");
        assert_eq!(parse_datetime("1969-12-31"), Some(-86_400_000_000_000));
        assert_eq!(parse_datetime("yesterday"), None);
    }
}
