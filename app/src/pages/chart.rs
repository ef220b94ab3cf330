//! Bar charts drawn as SVG by the page itself (no charting library, nothing fetched from
//! elsewhere): an axis of round values, a label for every few bars, and a readout above
//! the chart that names the bar under the pointer or finger (a tap works where hovering
//! does not). The drawing is sized so its text stays readable from 390 px wide up.

use leptos::prelude::*;

/// One bar: its label (the x axis and the readout) and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub label: String,
    pub value: f64,
}

/// The drawing's own units; the SVG scales to its box, text with it.
const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 58.0;
const RIGHT: f64 = 6.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 30.0;
/// Labels under the bars, at most.
const X_LABELS: usize = 5;

/// `points` as bars. `short` writes axis values (`1.2k`, `$3.4k`), `long` the readout's.
#[component]
pub fn BarChart(
    /// The chart's id, and the prefix of its parts' ids.
    id: &'static str,
    /// What the bars count, e.g. "Calls".
    title: String,
    points: Vec<Point>,
    short: fn(f64) -> String,
    long: fn(f64) -> String,
    /// The smallest step between axis values that `short` writes exactly (1 call, 100
    /// cents, 1 %).
    least_step: f64,
    /// Shown in the readout while no bar is picked.
    summary: String,
) -> impl IntoView {
    let picked = RwSignal::new(None::<usize>);
    let step = axis_step(points.iter().map(|p| p.value).fold(0.0, f64::max), least_step);
    let top = step * 4.0;
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let band = plot_width / points.len().max(1) as f64;
    let y = move |value: f64| TOP + plot_height * (1.0 - value / top);
    let ticks = (0..=4).map(|i| step * f64::from(i)).collect::<Vec<_>>();
    let every = points.len().div_ceil(X_LABELS).max(1);
    let description = format!("{title}: {summary}");
    let readout_points = points.clone();
    let readout = move || match picked.get().and_then(|i| readout_points.get(i)) {
        Some(point) => format!("{} · {}", point.label, long(point.value)),
        None => summary.clone(),
    };
    let bars = points
        .iter()
        .enumerate()
        .map(|(i, point)| {
            let x = LEFT + band * i as f64;
            let height = (y(0.0) - y(point.value)).max(if point.value > 0.0 { 1.0 } else { 0.0 });
            let text = format!("{}: {}", point.label, long(point.value));
            view! {
                // The whole column answers the pointer, however short its bar.
                <g
                    class="bar"
                    class:picked=move || picked.get() == Some(i)
                    on:pointerenter=move |_| picked.set(Some(i))
                    on:click=move |_| picked.set(Some(i))
                >
                    <rect class="hit" x=x y=TOP width=band height=plot_height />
                    <rect
                        class="value"
                        x=x + band * 0.15
                        y=y(0.0) - height
                        width=band * 0.7
                        height=height
                    />
                    <title>{text}</title>
                </g>
            }
        })
        .collect_view();
    let x_labels = points
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, point)| {
            let x = LEFT + band * (i as f64 + 0.5);
            view! {
                <text class="x-label" x=x y=HEIGHT - 8.0 text-anchor="middle">
                    {point.label.clone()}
                </text>
            }
        })
        .collect_view();
    let grid = ticks
        .into_iter()
        .map(|value| {
            view! {
                <line class="grid" x1=LEFT x2=WIDTH - RIGHT y1=y(value) y2=y(value) />
                <text class="y-label" x=LEFT - 6.0 y=y(value) + 5.0 text-anchor="end">
                    {short(value)}
                </text>
            }
        })
        .collect_view();
    view! {
        <figure class="chart" id=id>
            <figcaption>
                <span class="chart-title">{title}</span>
                <span class="chart-readout" id=format!("{id}-readout") aria-live="polite">
                    {readout}
                </span>
            </figcaption>
            <svg
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                role="img"
                aria-label=description
                on:pointerleave=move |_| picked.set(None)
            >
                {grid}
                {bars}
                {x_labels}
            </svg>
        </figure>
    }
}

/// The step between the axis' five values (0 to 4 steps, the top at or above `max`):
/// 1, 2, 2.5 or 5 times a power of ten and a multiple of `least`, so that every value is
/// written exactly (`2.5k`, `7.5k`; never 1.25k shown as `1.2k`, nor a fraction of a call).
pub fn axis_step(max: f64, least: f64) -> f64 {
    let needed = if max.is_finite() { (max / 4.0).max(least) } else { least };
    let magnitude = 10f64.powf(needed.log10().floor());
    let quarter = magnitude >= 10.0 * least * (1.0 - 1e-9);
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .filter(|&step| step != 2.5 || quarter)
        .map(|step| step * magnitude)
        .find(|&step| step >= needed * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// A count for an axis: `950`, `1.2k`, `3.4M`.
pub fn short_count(value: f64) -> String {
    match value.abs() {
        v if v >= 1e6 => format!("{}M", trimmed(value / 1e6)),
        v if v >= 1e3 => format!("{}k", trimmed(value / 1e3)),
        _ => trimmed(value),
    }
}

/// Cents for an axis, in dollars: `$950`, `$1.2k`.
pub fn short_dollars(cents: f64) -> String {
    let text = short_count(cents / 100.0);
    match text.strip_prefix('-') {
        Some(positive) => format!("-${positive}"),
        None => format!("${text}"),
    }
}

/// At most one decimal, none when it is zero.
fn trimmed(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_step_by_round_values_their_labels_write_exactly() {
        assert_eq!(axis_step(0.0, 1.0), 1.0, "no calls: 0 to 4 calls, not fractions");
        assert_eq!(axis_step(3.0, 1.0), 1.0);
        assert_eq!(axis_step(7.0, 1.0), 2.0);
        assert_eq!(axis_step(180.0, 1.0), 50.0);
        assert_eq!(axis_step(201.0, 1.0), 100.0);
        assert_eq!(axis_step(2_600.0, 1.0), 1_000.0);
        assert_eq!(axis_step(1_000.0, 1.0), 250.0);
        assert_eq!(axis_step(9.0, 1.0), 5.0, "2.5 calls is no step");
        assert_eq!(axis_step(40.0, 100.0), 100.0, "cents: whole dollars");
        assert_eq!(axis_step(0.3, 0.01), 0.1);
        for max in [3.0, 9.0, 45.0, 99.0, 999.0, 5_001.0, 123_456.0, 7_654_321.0, 9e6] {
            let step = axis_step(max, 1.0);
            assert!(step * 4.0 >= max, "{max}");
            for i in 1..=4 {
                let value = step * f64::from(i);
                let label = short_count(value);
                let scale = if value >= 1e6 {
                    1e6
                } else if value >= 1e3 {
                    1e3
                } else {
                    1.0
                };
                let written: f64 = label.trim_end_matches(['k', 'M']).parse().unwrap();
                assert_eq!(written * scale, value, "{label} for {value}");
            }
        }
    }

    #[test]
    fn axis_values_are_short() {
        assert_eq!(short_count(950.0), "950");
        assert_eq!(short_count(1_250.0), "1.2k");
        assert_eq!(short_count(2_000_000.0), "2M");
        assert_eq!(short_dollars(123_456.0), "$1.2k");
        assert_eq!(short_dollars(-5_000.0), "-$50");
        assert_eq!(short_count(62.5), "62.5");
    }
}
