//! Charts for the admin pages as inline SVG strings: bar, line and histogram. No script, no
//! external asset and no `style` attribute (a strict Content-Security-Policy allows them),
//! a `viewBox` so they scale to their container, and colours from one fixed palette that
//! colour-blind readers can tell apart (Okabe–Ito).
//!
//! Every text is XML-escaped, since labels are product names and other shop data. Each
//! chart has `role="img"`, an `aria-label` and a `<title>`; each bar and point carries its
//! label and formatted value in its own `<title>`, which browsers show as a tooltip and
//! screen readers read. The y axis starts at zero with four or five round ticks; values below
//! zero are drawn as zero (their `<title>` keeps the real value).

use std::fmt::Write as _;

use crate::admin::analytics::{nice_ceil, Histogram};

/// Series colours, in order.
pub const PALETTE: [&str; 6] = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00"];
/// Dash patterns per series, so lines differ by more than colour.
const DASHES: [&str; 3] = ["", "6 3", "2 3"];
const TEXT: &str = "#222";
const MUTED: &str = "#666";
const GRID: &str = "#ddd";

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 88.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 40.0;
const PLOT_W: f64 = WIDTH - LEFT - RIGHT;
const PLOT_H: f64 = HEIGHT - TOP - BOTTOM;
/// Rough width of a character at the 11-pixel label size, for spacing labels.
const CHAR_W: f64 = 6.5;
/// Longer x labels are cut with an ellipsis (their `<title>` keeps them whole).
const MAX_LABEL_CHARS: usize = 18;

/// Escapes text for XML content and attribute values; drops the control characters XML
/// cannot carry.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A long label cut in the middle, keeping its start and its end (product names of one
/// series share their start and differ at the end: `Figure Wataten! - Hana Merah`).
fn truncate(label: &str) -> String {
    let chars: Vec<char> = label.chars().collect();
    if chars.len() <= MAX_LABEL_CHARS {
        return label.to_string();
    }
    let head = (MAX_LABEL_CHARS - 1) / 3;
    let tail = MAX_LABEL_CHARS - 1 - head;
    let mut cut: String = chars[..head].iter().collect();
    cut.push('…');
    cut.extend(&chars[chars.len() - tail..]);
    cut
}

/// The opening of every chart: the root element, its accessible name and the visible title.
fn open(title: &str) -> String {
    let t = escape(title);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-label=\"{t}\" class=\"laris-chart\" font-family=\"system-ui, sans-serif\" font-size=\"11\">\
         <title>{t}</title>\
         <text x=\"{LEFT}\" y=\"20\" font-size=\"14\" font-weight=\"bold\" fill=\"{TEXT}\">{t}</text>"
    )
}

/// The words a chart draws besides its title, labels and values, in the page's language
/// (the caller translates them; [`ChartWords::english`] for tests and tools).
#[derive(Debug, Clone)]
pub struct ChartWords {
    /// Shown in an empty chart.
    pub no_data: String,
    /// Before a tier's lower bound on the histogram: "Gold: from Rp500.000".
    pub from: String,
}

impl ChartWords {
    pub fn english() -> ChartWords {
        ChartWords {
            no_data: "no data".into(),
            from: "from".into(),
        }
    }
}

fn no_data(title: &str, words: &ChartWords) -> String {
    let mut svg = open(title);
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{MUTED}\">{}</text></svg>",
        WIDTH / 2.0,
        TOP + PLOT_H / 2.0,
        escape(&words.no_data)
    );
    svg
}

/// A y axis from zero in three or four equal round steps (four or five ticks), at least
/// as high as `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scale {
    step: i64,
    top: i64,
}

impl Scale {
    fn for_max(max: i64) -> Scale {
        let max = max.max(0);
        let step = nice_ceil(max / 4 + i64::from(max % 4 != 0));
        // A step of at least a quarter of `max` needs at most four intervals; three leave
        // less empty space above the highest value when they suffice.
        let intervals = (max / step + i64::from(max % step != 0)).max(3);
        Scale {
            step,
            top: step.saturating_mul(intervals),
        }
    }

    fn ticks(self) -> i64 {
        self.top / self.step
    }

    fn y(self, value: i64) -> f64 {
        let v = value.clamp(0, self.top) as f64;
        TOP + PLOT_H * (1.0 - v / self.top as f64)
    }
}

fn y_axis(svg: &mut String, scale: Scale, format: &dyn Fn(i64) -> String) {
    for i in 0..=scale.ticks() {
        let v = scale.step.saturating_mul(i);
        let y = scale.y(v);
        let colour = if i == 0 { MUTED } else { GRID };
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{MUTED}\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            fitted(&format(v), LEFT - 8.0)
        );
    }
}

/// A tick label's text, with `textLength` squeezing it into `room` pixels when it is wider
/// (`Rp100.000.000` beside the axis), so that no character is cut off.
fn fitted(text: &str, room: f64) -> String {
    let width = text.chars().count() as f64 * CHAR_W;
    if width <= room {
        escape(text)
    } else {
        format!(
            "<tspan textLength=\"{room:.0}\" lengthAdjust=\"spacingAndGlyphs\">{}</tspan>",
            escape(text)
        )
    }
}

/// Every how many labels one is written, so that they do not overlap.
fn label_stride(labels: &[String], spacing: f64) -> usize {
    let widest = labels
        .iter()
        .map(|l| l.chars().count().min(MAX_LABEL_CHARS))
        .max()
        .unwrap_or(0) as f64;
    ((widest * CHAR_W + 8.0) / spacing.max(1.0)).ceil().max(1.0) as usize
}

fn x_label(svg: &mut String, x: f64, label: &str) {
    let _ = write!(
        svg,
        "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{MUTED}\">{}</text>",
        TOP + PLOT_H + 16.0,
        escape(&truncate(label))
    );
}

/// Vertical bars, one per (label, value), e.g. best-sellers or orders per day.
pub fn bar_chart(
    title: &str,
    series: &[(String, i64)],
    format: impl Fn(i64) -> String,
    words: &ChartWords,
) -> String {
    if series.is_empty() {
        return no_data(title, words);
    }
    let scale = Scale::for_max(series.iter().map(|(_, v)| *v).max().unwrap_or(0));
    let mut svg = open(title);
    y_axis(&mut svg, scale, &format);
    let band = PLOT_W / series.len() as f64;
    let labels: Vec<String> = series.iter().map(|(l, _)| l.clone()).collect();
    let stride = label_stride(&labels, band);
    let _ = write!(svg, "<g fill=\"{}\">", PALETTE[0]);
    for (i, (label, value)) in series.iter().enumerate() {
        let x = LEFT + band * i as f64 + band * 0.15;
        let y = scale.y(*value);
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{}: {}</title></rect>",
            band * 0.7,
            TOP + PLOT_H - y,
            escape(label),
            escape(&format(*value))
        );
    }
    svg.push_str("</g>");
    for (i, label) in labels.iter().enumerate().step_by(stride) {
        x_label(&mut svg, LEFT + band * (i as f64 + 0.5), label);
    }
    svg.push_str("</svg>");
    svg
}

/// One line per named series over shared x labels, with a legend (revenue per day, new vs
/// returning customers). A series shorter than the labels stops early; extra values are ignored.
pub fn line_chart(
    title: &str,
    labels: &[String],
    series: &[(&str, Vec<i64>)],
    format: impl Fn(i64) -> String,
    words: &ChartWords,
) -> String {
    if labels.is_empty() || series.iter().all(|(_, values)| values.is_empty()) {
        return no_data(title, words);
    }
    let n = labels.len();
    let max = series
        .iter()
        .flat_map(|(_, values)| values.iter().take(n))
        .copied()
        .max()
        .unwrap_or(0);
    let scale = Scale::for_max(max);
    let step = if n > 1 { PLOT_W / (n - 1) as f64 } else { 0.0 };
    let x = |i: usize| {
        if n > 1 {
            LEFT + step * i as f64
        } else {
            LEFT + PLOT_W / 2.0
        }
    };

    let mut svg = open(title);
    y_axis(&mut svg, scale, &format);
    let stride = label_stride(labels, if n > 1 { step } else { PLOT_W });
    for (i, label) in labels.iter().enumerate().step_by(stride) {
        x_label(&mut svg, x(i), label);
    }

    let mut legend_x = LEFT;
    for (k, (name, values)) in series.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        let dash = match DASHES[k % DASHES.len()] {
            "" => String::new(),
            d => format!(" stroke-dasharray=\"{d}\""),
        };
        let points: Vec<String> = values
            .iter()
            .take(n)
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), scale.y(*v)))
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash} points=\"{}\"/>",
            points.join(" ")
        );
        let _ = write!(svg, "<g fill=\"{colour}\">");
        for (i, v) in values.iter().take(n).enumerate() {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"><title>{}, {}: {}</title></circle>",
                x(i),
                scale.y(*v),
                escape(name),
                escape(&labels[i]),
                escape(&format(*v))
            );
        }
        svg.push_str("</g>");
        // The legend runs along the top, under the title.
        let _ = write!(
            svg,
            "<line x1=\"{legend_x:.1}\" x2=\"{:.1}\" y1=\"32\" y2=\"32\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{:.1}\" y=\"36\" fill=\"{TEXT}\">{}</text>",
            legend_x + 18.0,
            legend_x + 22.0,
            escape(name)
        );
        legend_x += 22.0 + name.chars().count() as f64 * CHAR_W + 16.0;
    }
    svg.push_str("</svg>");
    svg
}

/// Customers per spend range, with each tier's lower bound as a dashed vertical line
/// labelled with the tier's name and amount.
pub fn histogram_chart(title: &str, histogram: &Histogram, words: &ChartWords) -> String {
    let (Some(first), Some(last)) = (histogram.bins.first(), histogram.bins.last()) else {
        return no_data(title, words);
    };
    let (lo, hi) = (first.lo.0, last.hi.0.max(first.lo.0 + 1));
    let x = |v: i64| LEFT + PLOT_W * (v.clamp(lo, hi) - lo) as f64 / (hi - lo) as f64;
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let scale = Scale::for_max(histogram.bins.iter().map(|b| count(b.count)).max().unwrap_or(0));

    let mut svg = open(title);
    y_axis(&mut svg, scale, &|v| v.to_string());
    let _ = write!(svg, "<g fill=\"{}\">", PALETTE[0]);
    for b in &histogram.bins {
        let (x0, x1) = (x(b.lo.0), x(b.hi.0));
        let y = scale.y(count(b.count));
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{} – {}: {}</title></rect>",
            x0 + 0.5,
            (x1 - x0 - 1.0).max(0.5),
            TOP + PLOT_H - y,
            escape(&b.lo.to_string()),
            escape(&b.hi.to_string()),
            b.count
        );
    }
    svg.push_str("</g>");

    let edges: Vec<String> = std::iter::once(first.lo)
        .chain(histogram.bins.iter().map(|b| b.hi))
        .map(|r| r.to_string())
        .collect();
    let spacing = PLOT_W / histogram.bins.len() as f64;
    let stride = label_stride(&edges, spacing);
    for (i, edge) in edges.iter().enumerate().step_by(stride) {
        x_label(&mut svg, LEFT + spacing * i as f64, edge);
    }

    for (i, (name, bound)) in histogram.boundaries.iter().enumerate() {
        if bound.0 < lo || bound.0 > hi {
            continue;
        }
        let bx = x(bound.0);
        // Labels near the right edge grow leftwards; staggered rows keep neighbours apart;
        // a white halo keeps them readable over the bars.
        let (anchor, tx) = if bx > LEFT + PLOT_W * 0.75 {
            ("end", bx - 3.0)
        } else {
            ("start", bx + 3.0)
        };
        let _ = write!(
            svg,
            "<line x1=\"{bx:.1}\" x2=\"{bx:.1}\" y1=\"{TOP:.1}\" y2=\"{:.1}\" stroke=\"{}\" stroke-width=\"1.5\" stroke-dasharray=\"5 4\">\
             <title>{}: {} {}</title></line>\
             <text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" fill=\"{TEXT}\" stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">{} {}</text>",
            TOP + PLOT_H,
            PALETTE[5],
            escape(name),
            escape(&words.from),
            escape(&bound.to_string()),
            TOP + 10.0 + (i % 3) as f64 * 12.0,
            escape(name),
            escape(&bound.to_string())
        );
    }
    svg.push_str("</svg>");
    svg
}

/// An axis or bar value in hundredths of a percent as a percentage with no more decimals
/// than it has: `0%`, `0.01%`, `1.5%`, `12%` (so the ticks of an all-zero chart still differ).
pub fn basis_points_as_percent(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let v = v.unsigned_abs();
    match (v % 100, v % 10) {
        (0, _) => format!("{sign}{}%", v / 100),
        (_, 0) => format!("{sign}{}.{}%", v / 100, (v % 100) / 10),
        _ => format!("{sign}{}.{:02}%", v / 100, v % 100),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::analytics::spend_histogram;
    use crate::domain::Rupiah;

    fn rupiah(v: i64) -> String {
        Rupiah(v).to_string()
    }

    /// Parses the chart as XML and returns the texts of its `<title>` elements.
    fn titles(svg: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("role"), Some("img"));
        assert!(root.attribute("viewBox").is_some());
        doc.descendants()
            .filter(|n| n.has_tag_name("title"))
            .map(|n| n.text().unwrap_or("").to_string())
            .collect()
    }

    #[test]
    fn long_labels_keep_their_start_and_end_and_wide_ticks_are_squeezed_not_cut() {
        assert_eq!(
            truncate("Figure Wataten! - Hana Shirosaki Merah"),
            "Figur…rosaki Merah"
        );
        assert_eq!(truncate("Serundeng 100 g"), "Serundeng 100 g");
        assert_eq!(fitted("Rp20.000", 80.0), "Rp20.000");
        assert_eq!(
            fitted("Rp100.000.000", 80.0),
            "<tspan textLength=\"80\" lengthAdjust=\"spacingAndGlyphs\">Rp100.000.000</tspan>"
        );
    }

    #[test]
    fn percentages_keep_only_the_decimals_they_have() {
        let shown: Vec<String> = [0, 1, 2, 3, 150, 1200, 1234, -50]
            .into_iter()
            .map(basis_points_as_percent)
            .collect();
        assert_eq!(
            shown,
            ["0%", "0.01%", "0.02%", "0.03%", "1.5%", "12%", "12.34%", "-0.5%"]
        );
    }

    #[test]
    fn the_y_axis_has_four_or_five_round_ticks_and_survives_zero() {
        let scale = |step, top| Scale { step, top };
        assert_eq!(Scale::for_max(0), scale(1, 3));
        assert_eq!(Scale::for_max(3), scale(1, 3));
        assert_eq!(Scale::for_max(42), scale(20, 60));
        assert_eq!(Scale::for_max(62), scale(20, 80));
        assert_eq!(Scale::for_max(250_000), scale(100_000, 300_000));
        assert_eq!(Scale::for_max(1_000_000), scale(250_000, 1_000_000));
        assert_eq!(Scale::for_max(-5), scale(1, 3));
    }

    #[test]
    fn a_bar_chart_escapes_its_title_and_labels_and_gives_each_bar_its_value() {
        let series = vec![
            ("<script>alert(1)</script>".to_string(), 20_000),
            ("Serundeng & Kering".to_string(), 1_250_000),
        ];
        let svg = bar_chart("Revenue <per> day", &series, rupiah, &ChartWords::english());
        assert!(svg.contains("<title>Revenue &lt;per&gt; day</title>"));
        assert!(svg.contains("aria-label=\"Revenue &lt;per&gt; day\""));
        assert!(!svg.contains("<script>"));
        assert_eq!(
            titles(&svg),
            vec![
                "Revenue <per> day",
                "<script>alert(1)</script>: Rp20.000",
                "Serundeng & Kering: Rp1.250.000",
            ]
        );
        assert!(
            svg.contains(">Rp1.500.000</text>"),
            "a round tick above the highest bar: {svg}"
        );
        assert!(
            !svg.contains(">Rp2.000.000</text>"),
            "one step of headroom at most: {svg}"
        );
    }

    #[test]
    fn empty_charts_say_no_data() {
        let en = ChartWords::english();
        let bar = bar_chart("Best-sellers", &[], |v| v.to_string(), &en);
        let line = line_chart("Revenue", &[], &[("revenue", vec![])], |v| v.to_string(), &en);
        let hist = histogram_chart("Spend", &spend_histogram(&[], 10, &[]), &en);
        for svg in [bar, line, hist] {
            assert!(svg.contains(">no data</text>"));
            assert_eq!(titles(&svg).len(), 1);
        }
        let id = ChartWords {
            no_data: "belum ada data".into(),
            from: "mulai".into(),
        };
        assert!(bar_chart("Terlaris", &[], |v| v.to_string(), &id).contains(">belum ada data</text>"));
    }

    #[test]
    fn a_line_chart_of_zeros_draws_flat_lines_with_a_legend() {
        let labels: Vec<String> = (1..=30).map(|d| format!("2026-10-{d:02}")).collect();
        let svg = line_chart(
            "New vs returning",
            &labels,
            &[("new", vec![0; 30]), ("returning", vec![0; 30])],
            |v| v.to_string(),
            &ChartWords::english(),
        );
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        let t = titles(&svg);
        assert_eq!(t.len(), 1 + 60);
        assert_eq!(t[1], "new, 2026-10-01: 0");
        assert_eq!(t[60], "returning, 2026-10-30: 0");
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains(">new</text>") && svg.contains(">returning</text>"));
        // Thirty date labels do not fit side by side: only some are written.
        let written = labels
            .iter()
            .filter(|l| svg.contains(&format!(">{l}</text>")))
            .count();
        assert!((5..30).contains(&written), "{written} labels written");
    }

    #[test]
    fn a_single_point_line_chart_is_centred() {
        let svg = line_chart(
            "Revenue",
            &["2026-10".to_string()],
            &[("revenue", vec![500])],
            |v| v.to_string(),
            &ChartWords::english(),
        );
        assert!(svg.contains("<circle cx=\"356.0\""));
        titles(&svg);
    }

    #[test]
    fn a_histogram_draws_tier_boundaries_as_labelled_dashed_lines() {
        let spends = [0, 50_000, 120_000, 199_999, 200_000, 480_000].map(Rupiah);
        let tiers = vec![
            ("Bronze".to_string(), Rupiah(0)),
            ("Silver <2>".to_string(), Rupiah(250_000)),
        ];
        let svg = histogram_chart(
            "Spend per customer",
            &spend_histogram(&spends, 5, &tiers),
            &ChartWords::english(),
        );
        let t = titles(&svg);
        assert_eq!(t[1], "Rp0 – Rp100.000: 2");
        assert_eq!(t[5], "Rp400.000 – Rp500.000: 1");
        assert_eq!(t[7], "Silver <2>: from Rp250.000");
        assert_eq!(svg.matches("stroke-dasharray").count(), 2);
        assert!(svg.contains(">Silver &lt;2&gt; Rp250.000</text>"));
    }
}
