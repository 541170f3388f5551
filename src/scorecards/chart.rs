//! The partner scorecard as a small chart (`Accept: image/svg+xml`): monthly revenue as bars,
//! the monthly target as a line. Self-contained so that it can be embedded anywhere, mailed or
//! opened offline: no script, no style sheet, no external font or link (the generic
//! `sans-serif` family), every text escaped. The only URL-like text is the SVG namespace name,
//! which identifies the format and is never fetched.

use super::model::PartnerScorecard;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 48.0;

/// Text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Characters XML 1.0 does not allow at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Fen as yuan for an axis label: 12.3万 above ten thousand yuan, else whole yuan.
fn yuan(minor: i64) -> String {
    let yuan = minor as f64 / 100.0;
    if yuan.abs() >= 10_000.0 {
        format!("{:.1}万", yuan / 10_000.0)
    } else {
        format!("{yuan:.0}")
    }
}

pub fn render(card: &PartnerScorecard) -> String {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = card.months.len().max(1) as f64;
    let max = card.months.iter().map(|m| m.revenue_minor.max(m.target_minor.unwrap_or(0))).max().unwrap_or(0).max(1);
    let y = |v: i64| TOP + plot_h - (v.max(0) as f64 / max as f64) * plot_h;
    let slot = plot_w / n;
    let title = format!("{} {} – {}", card.name, card.from, card.to);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         role=\"img\" aria-label=\"{t}\" font-family=\"sans-serif\" font-size=\"11\">\n<title>{t}</title>\n\
         <rect width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#ffffff\"/>\n\
         <text x=\"{LEFT}\" y=\"20\" font-size=\"14\" fill=\"#222222\">{t}</text>\n",
        t = escape(&title)
    );
    // Axes and the top value.
    svg.push_str(&format!(
        "<line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{b}\" stroke=\"#888888\"/>\n\
         <line x1=\"{LEFT}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#888888\"/>\n\
         <text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" fill=\"#555555\">{top}</text>\n\
         <text x=\"{lx}\" y=\"{b}\" text-anchor=\"end\" fill=\"#555555\">0</text>\n",
        b = TOP + plot_h,
        r = WIDTH - RIGHT,
        lx = LEFT - 6.0,
        ty = TOP + 4.0,
        top = escape(&yuan(max)),
    ));
    let label_every = (card.months.len() / 12).max(1);
    let mut points = Vec::new();
    for (i, m) in card.months.iter().enumerate() {
        let x = LEFT + slot * i as f64;
        let bar_w = (slot * 0.7).max(1.0);
        let top = y(m.revenue_minor);
        svg.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{top:.1}\" width=\"{bar_w:.1}\" height=\"{:.1}\" fill=\"#4a7bd0\"><title>{} {}</title></rect>\n",
            x + slot * 0.15,
            TOP + plot_h - top,
            escape(&m.period),
            escape(&yuan(m.revenue_minor)),
        ));
        if let Some(target) = m.target_minor {
            points.push(format!("{:.1},{:.1}", x + slot / 2.0, y(target)));
        }
        if i % label_every == 0 {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555555\">{}</text>\n",
                x + slot / 2.0,
                TOP + plot_h + 16.0,
                escape(&m.period),
            ));
        }
    }
    if !points.is_empty() {
        svg.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#d04a4a\" stroke-width=\"2\"/>\n",
            points.join(" ")
        ));
    }
    let legend_y = HEIGHT - 12.0;
    svg.push_str(&format!(
        "<rect x=\"{LEFT}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"#4a7bd0\"/>\
         <text x=\"{:.1}\" y=\"{legend_y}\" fill=\"#222222\">收入 revenue</text>\
         <line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#d04a4a\" stroke-width=\"2\"/>\
         <text x=\"{:.1}\" y=\"{legend_y}\" fill=\"#222222\">目标 target</text>\n</svg>\n",
        legend_y - 9.0,
        LEFT + 14.0,
        LEFT + 110.0,
        legend_y - 4.0,
        LEFT + 124.0,
        legend_y - 4.0,
        LEFT + 128.0,
    ));
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorecards::model::{Figures, MonthFigures};

    fn card(name: &str) -> PartnerScorecard {
        let month = |p: &str, r, t| MonthFigures {
            period: p.into(),
            revenue_minor: r,
            target_minor: t,
            cost_minor: Some(0),
            units: 0,
            new_customers: 0,
        };
        PartnerScorecard {
            partner_id: "id".into(),
            name: name.into(),
            from: "2026-01".into(),
            to: "2026-02".into(),
            figures: Figures::default(),
            months: vec![month("2026-01", 100, Some(150)), month("2026-02", 200, Some(150))],
        }
    }

    #[test]
    fn the_chart_is_self_contained_and_escapes_text() {
        let svg = render(&card("<script>alert(1)</script> & \"甲\""));
        assert!(svg.starts_with("<svg "));
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;甲&quot;"));
        assert_eq!(svg.matches("http").count(), 1, "only the namespace name");
        assert!(!svg.contains("href") && !svg.contains("<style") && !svg.contains("@font-face"));
        assert_eq!(svg.matches("<rect x=").count(), 3, "two bars and the legend key");
        assert!(svg.contains("<polyline"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn an_empty_window_still_draws() {
        let mut c = card("乙");
        c.months.clear();
        let svg = render(&c);
        assert!(svg.starts_with("<svg ") && !svg.contains("<polyline"));
        assert_eq!(escape("a\u{1}b"), "a\u{FFFD}b");
    }
}
