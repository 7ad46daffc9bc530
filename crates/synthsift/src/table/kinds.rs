//! Column kinds as `pandas.read_csv` decides them, and value conversions
//! between kinds as the reference metric performs them.
//!
//! pandas reads a CSV column as numbers when every field that is not one of
//! its missing-value tokens parses as a number, as booleans when every such
//! field is a boolean literal and none is missing, and as strings otherwise.
//! The reference then treats numbers and booleans alike (as floats) and
//! everything else as categories.

/// pandas' default strings that read as a missing value (`na_values`).
const NA_TOKENS: [&str; 19] = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

/// Whether pandas reads `field` as a missing value.
pub fn is_na_token(field: &str) -> bool {
    NA_TOKENS.contains(&field)
}

/// Parses a field as pandas' C parser parses a float, or `None`.
///
/// Surrounding ASCII whitespace is allowed, as are `inf` and `infinity` in
/// any letter case with an optional sign; `nan` spellings other than the
/// missing-value tokens are not numbers.
pub fn parse_number(field: &str) -> Option<f64> {
    let s = field.trim_matches(|c: char| c == ' ' || c == '\t');
    if s.is_empty() {
        return None;
    }
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity") {
        return Some(if s.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    // Rust also reads "nan" and "inf" spellings; only digits, a sign, a point
    // and an exponent are numbers to pandas.
    if !unsigned
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Parses a pandas boolean literal (`True`, `TRUE`, `true` and the same for
/// false).
pub fn parse_bool(field: &str) -> Option<bool> {
    match field {
        "True" | "TRUE" | "true" => Some(true),
        "False" | "FALSE" | "false" => Some(false),
        _ => None,
    }
}

/// What a whole CSV column reads as, decided field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindTracker {
    all_numeric: bool,
    all_integer: bool,
    all_bool: bool,
    any_missing: bool,
    any_value: bool,
}

/// The outcome of [`KindTracker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvKind {
    /// Integers without missing values (pandas `int64`).
    Integer,
    /// Numbers (pandas `float64`, also for an all-missing column).
    Float,
    /// Booleans without missing values (pandas `bool`), read as 0/1.
    Bool,
    /// Booleans with missing values: pandas keeps Python `True`/`False`
    /// objects, which the metric compares as the strings "True"/"False".
    BoolObject,
    /// Strings, as written.
    Text,
}

impl Default for KindTracker {
    fn default() -> Self {
        KindTracker {
            all_numeric: true,
            all_integer: true,
            all_bool: true,
            any_missing: false,
            any_value: false,
        }
    }
}

impl KindTracker {
    /// Takes one field into account.
    pub fn observe(&mut self, field: &str) {
        if is_na_token(field) {
            self.any_missing = true;
            return;
        }
        self.any_value = true;
        if self.all_bool && parse_bool(field).is_none() {
            self.all_bool = false;
        }
        if self.all_numeric {
            match parse_number(field) {
                Some(_) => {
                    if self.all_integer && !is_integer_literal(field) {
                        self.all_integer = false;
                    }
                }
                None => self.all_numeric = false,
            }
        }
    }

    /// The kind of the column seen so far.
    pub fn kind(&self) -> CsvKind {
        if !self.any_value {
            return CsvKind::Float;
        }
        if self.all_bool {
            return if self.any_missing {
                CsvKind::BoolObject
            } else {
                CsvKind::Bool
            };
        }
        if self.all_numeric {
            return if self.all_integer && !self.any_missing {
                CsvKind::Integer
            } else {
                CsvKind::Float
            };
        }
        CsvKind::Text
    }
}

fn is_integer_literal(field: &str) -> bool {
    let s = field.trim_matches(|c: char| c == ' ' || c == '\t');
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The text pandas gives a number when a numeric column is turned into
/// strings: `str(int)` for integer columns, Python's `repr(float)` otherwise.
pub fn python_number_text(value: f64, integer: bool) -> String {
    if integer && value.fract() == 0.0 && value.abs() < 1e18 {
        return format!("{}", value as i64);
    }
    python_float_repr(value)
}

/// Python's `repr(float)`: the shortest round-tripping digits, in positional
/// notation for decimal exponents in [-4, 16), scientific otherwise.
pub fn python_float_repr(value: f64) -> String {
    if value.is_nan() {
        return "nan".into();
    }
    if value.is_infinite() {
        return if value > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // `{:e}` gives the shortest round-tripping digits, e.g. "1.5e-7".
    let sci = format!("{:e}", value);
    let (mantissa, exp) = sci
        .split_once('e')
        .expect("scientific format has an exponent");
    let exp: i32 = exp.parse().expect("exponent is an integer");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let n = digits.len() as i32;
        let body = if exp >= n - 1 {
            format!("{}{}.0", digits, "0".repeat((exp - n + 1) as usize))
        } else if exp >= 0 {
            let (int, frac) = digits.split_at((exp + 1) as usize);
            format!("{int}.{frac}")
        } else {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mant = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mant}e{exp_sign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_pandas_reads_them() {
        assert_eq!(parse_number("1.5"), Some(1.5));
        assert_eq!(parse_number(" 2 "), Some(2.0));
        assert_eq!(parse_number("-1e3"), Some(-1000.0));
        assert_eq!(parse_number(".5"), Some(0.5));
        assert_eq!(parse_number("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_number("NAN"), None);
        assert_eq!(parse_number("1,5"), None);
        assert_eq!(parse_number("12abc"), None);
        assert_eq!(parse_number("0x10"), None);
    }

    #[test]
    fn kinds_of_columns() {
        let kind = |fields: &[&str]| {
            let mut t = KindTracker::default();
            fields.iter().for_each(|f| t.observe(f));
            t.kind()
        };
        assert_eq!(kind(&["1", "2", "-3"]), CsvKind::Integer);
        assert_eq!(kind(&["1", "", "3"]), CsvKind::Float);
        assert_eq!(kind(&["1", "2.5"]), CsvKind::Float);
        assert_eq!(kind(&["", "NA", "null"]), CsvKind::Float);
        assert_eq!(kind(&["True", "false"]), CsvKind::Bool);
        assert_eq!(kind(&["True", ""]), CsvKind::BoolObject);
        assert_eq!(kind(&["1", "x"]), CsvKind::Text);
        assert_eq!(kind(&["2024-01-01"]), CsvKind::Text);
    }

    #[test]
    fn python_reprs() {
        assert_eq!(python_float_repr(1.0), "1.0");
        assert_eq!(python_float_repr(25.5), "25.5");
        assert_eq!(python_float_repr(0.0001), "0.0001");
        assert_eq!(python_float_repr(0.00001), "1e-05");
        assert_eq!(python_float_repr(1e16), "1e+16");
        assert_eq!(python_float_repr(123456789012345.0), "123456789012345.0");
        assert_eq!(python_float_repr(-1.25e-7), "-1.25e-07");
        assert_eq!(python_number_text(3.0, true), "3");
    }
}
