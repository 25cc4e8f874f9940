//! Which statuses count as expected: codes, classes (`2xx`), bounds (`<400`) and inclusive ranges (`200-299`),
//! kept with the words they were written in, for messages.

/// Which statuses count as expected: codes and inclusive ranges, kept with the words they were given in.
#[derive(Debug, Clone)]
pub struct StatusSet {
    ranges: Vec<(u16, u16)>,
    words: Vec<String>,
}

impl StatusSet {
    /// Builds a set of single codes.
    pub fn codes(codes: &[u16]) -> Self {
        Self {
            ranges: codes.iter().map(|&c| (c, c)).collect(),
            words: codes.iter().map(u16::to_string).collect(),
        }
    }

    /// Adds one status as written: `404`, `2xx`, `<400` or `200-299` (statuses run from 100 to 599).
    pub fn add(&mut self, text: &str) -> Result<(), String> {
        let text = text.trim();
        let number = |t: &str| {
            t.trim()
                .parse::<u16>()
                .ok()
                .filter(|n| (100..=599).contains(n))
        };
        let range = if let Some(class) = text.strip_suffix("xx").and_then(|c| c.parse::<u16>().ok())
        {
            (1..=5)
                .contains(&class)
                .then_some((class * 100, class * 100 + 99))
        } else if let Some(bound) = text.strip_prefix('<') {
            // "Below 600" is every status; "below 100" none, which no check means.
            let bound = bound.trim().parse::<u16>().ok();
            bound
                .filter(|b| (101..=600).contains(b))
                .map(|b| (100, b - 1))
        } else if let Some((low, high)) = text.split_once('-') {
            number(low).zip(number(high)).filter(|(l, h)| l <= h)
        } else {
            number(text).map(|n| (n, n))
        };
        let range = range.ok_or_else(|| {
            format!("{text:?} is not a status: write 200, 2xx, <400 or 200-299 (100 to 599)")
        })?;
        self.ranges.push(range);
        self.words.push(text.to_string());
        Ok(())
    }

    /// Tells whether a status is in the set.
    pub fn contains(&self, status: u16) -> bool {
        self.ranges
            .iter()
            .any(|&(low, high)| (low..=high).contains(&status))
    }

    /// Describes the set as it was written: `200`, `200, 204`, `2xx`, `<400`.
    pub fn describe(&self) -> String {
        self.words.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classes_bounds_ranges_and_codes_with_their_edges() {
        let set = |text: &str| {
            let mut set = StatusSet::codes(&[]);
            set.add(text).map(|()| set)
        };
        let class = set("2xx").unwrap();
        assert!(class.contains(200) && class.contains(299));
        assert!(!class.contains(199) && !class.contains(300));
        let below = set("<400").unwrap();
        assert!(below.contains(100) && below.contains(399) && !below.contains(400));
        let lowest = set("<101").unwrap();
        assert!(lowest.contains(100) && !lowest.contains(101));
        let range = set("200-202").unwrap();
        assert!(
            range.contains(200)
                && range.contains(202)
                && !range.contains(203)
                && !range.contains(199)
        );
        let code = set(" 404 ").unwrap();
        assert!(code.contains(404) && !code.contains(403) && !code.contains(405));
        assert_eq!(code.describe(), "404");
        for bad in [
            "6xx", "0xx", "<100", "<600x", "300-200", "99", "600", "2xX", "abc", "",
        ] {
            assert!(set(bad).is_err(), "{bad:?}");
        }
        assert!(set("5xx").unwrap().contains(599));
        assert!(set("1xx").unwrap().contains(100));
        assert!(set("<600").unwrap().contains(599));
    }
}
