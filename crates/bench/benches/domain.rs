//! Micro-benchmarks of the per-read domain computations on W1-sized tools.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use feather_bench::schemas;
use feather_domain::field_map::stale_field_paths;
use feather_domain::input_config::input_config_view;

fn input_config(c: &mut Criterion) {
    let configured = schemas::tool(0, 0);
    let plain = schemas::tool(2, 0);
    let w1: Vec<_> = (0..schemas::W1_CONNECTIONS)
        .flat_map(|salt| schemas::connection_tools(schemas::TOOLS_PER_CONNECTION, salt))
        .collect();
    let mut group = c.benchmark_group("input_config_view");
    group.bench_function("tool with 1 default + 1 pinned", |b| {
        b.iter(|| {
            input_config_view(
                black_box(&configured.input_schema),
                black_box(configured.input_defaults.as_ref()),
            )
        })
    });
    group.bench_function("tool without config", |b| {
        b.iter(|| input_config_view(black_box(&plain.input_schema), None))
    });
    group.bench_function("W1 listing (100 tools)", |b| {
        b.iter(|| {
            for tool in &w1 {
                black_box(input_config_view(
                    &tool.input_schema,
                    tool.input_defaults.as_ref(),
                ));
            }
        })
    });
    group.finish();
}

fn field_map(c: &mut Criterion) {
    let tool = schemas::tool(0, 0);
    let w1: Vec<_> = (0..schemas::W1_CONNECTIONS)
        .flat_map(|salt| schemas::connection_tools(schemas::TOOLS_PER_CONNECTION, salt))
        .collect();
    let mut group = c.benchmark_group("stale_field_paths");
    group.bench_function("3 paths, 1 stale, $ref", |b| {
        b.iter(|| {
            stale_field_paths(
                black_box(tool.response_schema.as_ref()),
                black_box(tool.response_field_map.as_ref()),
            )
        })
    });
    group.bench_function("W1 listing (100 tools)", |b| {
        b.iter(|| {
            for tool in &w1 {
                black_box(stale_field_paths(
                    tool.response_schema.as_ref(),
                    tool.response_field_map.as_ref(),
                ));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, input_config, field_map);
criterion_main!(benches);
