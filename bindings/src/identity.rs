//! ID-number checks for the form where a retiree (or a relative) types the number: a pure
//! function over [`lifecert_core::identity::person::IdNumber`].

use crate::error::LifecertError;
pub use lifecert_core::identity::person::IdKind;
use lifecert_core::identity::person::{Date, IdNumber};
use std::time::{SystemTime, UNIX_EPOCH};

/// Which document an ID number belongs to.
#[uniffi::remote(Enum)]
pub enum IdKind {
    /// Mainland resident identity card, 18 characters (GB 11643-1999).
    MainlandResident,
    /// Mainland resident identity card, legacy 15-digit form.
    MainlandResidentLegacy15,
    /// Residence permit for Hong Kong residents.
    HongKongResidencePermit,
    /// Residence permit for Macao residents.
    MacaoResidencePermit,
    /// Residence permit for Taiwan residents.
    TaiwanResidencePermit,
}

/// A valid ID number, as safe to show: never the full number.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IdCheck {
    /// The number with its middle (the birth date included) masked, e.g.
    /// `110***********002X`.
    pub masked: String,
    /// The document it belongs to.
    pub kind: IdKind,
    /// The year of birth encoded in the number.
    pub birth_year: u16,
}

/// Checks an ID number as typed (surrounding spaces, lower-case `x` and full-width digits
/// are accepted): characters, length, region, birth date (not in the future by the
/// device's clock, China Standard Time) and check character.
///
/// Errors: [`LifecertError::BadInput`] saying what is wrong (never echoing the number).
#[uniffi::export]
pub fn validate_id_number(text: String) -> Result<IdCheck, LifecertError> {
    check_id_number(&text, today_in_china()?)
}

fn check_id_number(text: &str, today: Date) -> Result<IdCheck, LifecertError> {
    let id = IdNumber::parse(text, today)?;
    Ok(IdCheck {
        masked: id.masked(),
        kind: id.kind(),
        birth_year: id.birth_date().year(),
    })
}

/// Today's date in China Standard Time (UTC+8, no daylight saving), the calendar the ID
/// numbers' birth dates are written in.
fn today_in_china() -> Result<Date, LifecertError> {
    const CST_OFFSET_SECS: u64 = 8 * 3600;
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| LifecertError::internal("the device clock is before 1970"))?
        .as_secs();
    let days = i64::try_from(secs.saturating_add(CST_OFFSET_SECS) / 86_400)
        .map_err(|_| LifecertError::internal("the device clock is out of range"))?;
    date_from_unix_days(days)
}

/// The proleptic Gregorian date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`).
fn date_from_unix_days(days: i64) -> Result<Date, LifecertError> {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    let out_of_range = || LifecertError::internal("the device clock is out of range");
    let year = u16::try_from(year).map_err(|_| out_of_range())?;
    // Month and day are in range by construction; `Date::new` checks them again.
    Date::new(year, month as u8, day as u8).map_err(|_| out_of_range())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(d: Date) -> (u16, u8, u8) {
        (d.year(), d.month(), d.day())
    }

    #[test]
    fn unix_days_give_calendar_dates() {
        for (days, expected) in [
            (0, (1970, 1, 1)),
            (-1, (1969, 12, 31)),
            (59, (1970, 3, 1)),
            (11_016, (2000, 2, 29)),
            (11_017, (2000, 3, 1)),
            (19_723, (2024, 1, 1)),
            (20_240, (2025, 6, 1)),
            (2_932_896, (9999, 12, 31)),
        ] {
            assert_eq!(ymd(date_from_unix_days(days).unwrap()), expected, "{days}");
        }
        assert!(date_from_unix_days(2_932_897).is_err());
        assert!(today_in_china().unwrap().year() >= 2025);
    }

    #[test]
    fn id_numbers_are_checked_and_masked() {
        let today = Date::new(2025, 6, 1).unwrap();
        let ok = check_id_number(" 11010519491231002x ", today).unwrap();
        assert_eq!(
            ok,
            IdCheck {
                masked: "110***********002X".into(),
                kind: IdKind::MainlandResident,
                birth_year: 1949,
            }
        );
        let legacy = check_id_number("110105491231002", today).unwrap();
        assert_eq!(legacy.kind, IdKind::MainlandResidentLegacy15);
        assert_eq!(legacy.birth_year, 1949);
        assert_eq!(legacy.masked, "110*********002");

        for bad in [
            "",
            "110105194912310021",
            "1101051949123100",
            "11010519491231002Y",
        ] {
            match check_id_number(bad, today) {
                Err(LifecertError::BadInput { reason }) => {
                    assert!(reason.starts_with("invalid ID number"), "{reason}");
                    assert!(
                        !reason.contains("1949"),
                        "the number is not echoed: {reason}"
                    );
                }
                other => panic!("{bad:?}: expected BadInput, got {other:?}"),
            }
        }
    }
}
