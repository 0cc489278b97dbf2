# SPDX-License-Identifier: MIT
# Writes the stylesheet the dart_sass benchmark workload compiles: a design
# system in one self-contained .scss file (no @import of files, only the
# built-in sass: modules), with palettes and scales in maps, functions,
# mixins with @content, @each/@for loops, nesting, placeholders, media
# queries, colour and string maths. Each component has its own theme map and
# names, so the Dart VM allocates and collects the same kinds of objects a
# real site build does. Same SCALE, same bytes.
#
# Usage: python3 gen_scss.py [SCALE] > work.scss   (1.0 = ~1.5 s of dart-sass)
import sys

# Components at SCALE 1.0; each is 8 SCSS rules that expand to about 66 CSS rules.
FULL_COMPONENTS = 800

PRELUDE = """\
@use "sass:color";
@use "sass:list";
@use "sass:map";
@use "sass:math";
@use "sass:string";

$base-font: 16px;
$spacer: 4px;
$palette: (
  "primary": #2f5fb3, "secondary": #6c757d, "success": #2e8540, "info": #1b9cb8,
  "warning": #e0a106, "danger": #c9302c, "light": #eef1f4, "dark": #23272b,
);
$sizes: ("xs": 0.5, "sm": 0.75, "md": 1, "lg": 1.5, "xl": 2.25);
$breakpoints: ("sm": 576px, "md": 768px, "lg": 992px, "xl": 1200px);
$weights: (300, 400, 500, 700);

@function rem($px) {
  @return math.div($px, $base-font) * 1rem;
}

@function space($n) {
  @return rem($spacer * $n);
}

// A shade ladder as a map built one step at a time (each map.merge copies).
@function ladder($c, $steps) {
  $out: ();
  @for $i from 1 through $steps {
    $k: math.div($i, $steps + 1);
    $out: map.merge($out, ("#{$i * 100}": color.mix(#000, $c, $k * 60%)));
  }
  @return $out;
}

// "Card Title 12" -> "card-title-12", through string slicing and searching.
@function slugify($text) {
  $text: string.to-lower-case($text);
  $out: "";
  @for $i from 1 through string.length($text) {
    $ch: string.slice($text, $i, $i);
    @if $ch == " " {
      $ch: "-";
    }
    $out: $out + $ch;
  }
  @return string.unquote($out);
}

@function contrast($c) {
  @if color.channel($c, "lightness", $space: hsl) > 55% {
    @return #111;
  }
  @return #fff;
}

// A modular type scale as a comma list grown one entry at a time.
@function type-scale($ratio, $steps) {
  $out: ();
  @for $i from 0 through $steps {
    $out: list.append($out, rem($base-font * math.pow($ratio, $i - 2)), $separator: comma);
  }
  @return $out;
}

// Design tokens: a nested map, refined per component with map.deep-merge.
$tokens: (
  "radius": ("sm": 2px, "md": 6px, "lg": 12px),
  "elevation": ("low": 1, "mid": 3, "high": 8),
  "motion": ("fast": 120ms, "slow": 320ms),
);

@function token($group, $key, $map: $tokens) {
  @return map.get($map, $group, $key);
}

@mixin respond($bp) {
  @media (min-width: map.get($breakpoints, $bp)) {
    @content;
  }
}

@mixin variant($c, $depth) {
  background-color: $c;
  border-color: color.adjust($c, $lightness: -6%);
  color: contrast($c);
  box-shadow: 0 rem($depth * 1px) rem($depth * 3px) rgba($c, 0.25);
  &:hover {
    background-color: color.scale($c, $lightness: -12%);
  }
  &:focus-visible {
    outline: 2px solid color.mix(#fff, $c, 35%);
  }
  &[disabled] {
    opacity: 0.65;
    background-color: color.scale($c, $saturation: -40%);
  }
}

@mixin sized($f, $pad) {
  font-size: rem($base-font * $f);
  padding: space($pad * $f) space($pad * 2 * $f);
  line-height: math.div(math.round($f * 150), 100);
}

%surface {
  border-style: solid;
  border-width: 1px;
  border-radius: rem(6px);
}

"""


def component(k, out):
    """One component block; everything depends only on k."""
    name = "Widget %s %d" % (["Card", "Panel", "Badge", "Menu", "Tab", "Toast"][k % 6], k)
    hue = (k * 37) % 360
    steps = 3 + k % 4
    depth = 1 + k % 5
    pad = 1 + k % 3
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    tags = ", ".join('"%s-%d"' % (words[(k + i) % len(words)], i) for i in range(4))
    out("$c%d-base: color.adjust(hsl(%d, 55%%, 48%%), $lightness: %d%%);\n"
        % (k, hue, (k % 7) - 3))
    out("$c%d-theme: map.merge($palette, (\"accent\": $c%d-base,\n"
        "  \"muted\": color.scale($c%d-base, $saturation: -50%%)));\n" % (k, k, k))
    out("$c%d-shades: ladder($c%d-base, %d);\n" % (k, k, steps))
    out("$c%d-tags: (%s);\n" % (k, tags))
    out("$c%d-tokens: map.deep-merge($tokens, (\"radius\": (\"md\": %dpx),\n"
        "  \"elevation\": (\"mid\": %d)));\n" % (k, 3 + k % 8, depth))
    out("$c%d-type: type-scale(%g, %d);\n" % (k, 1.1 + (k % 5) * 0.05, 5 + k % 4))
    out(".#{slugify(\"%s\")} {\n" % name)
    out("  @extend %surface;\n")
    out("  @include sized(1, %d);\n" % pad)
    out("  font-weight: list.nth($weights, %d);\n" % (1 + k % 4))
    out("  margin: space(%d) auto;\n" % (k % 6))
    out("  border-radius: rem(token(\"radius\", \"md\", $c%d-tokens));\n" % k)
    out("  transition: opacity token(\"motion\", \"fast\", $c%d-tokens);\n" % k)
    out("  @each $fs in $c%d-type {\n" % k)
    out("    &__h#{list.index($c%d-type, $fs)} {\n" % k)
    out("      font-size: $fs;\n")
    out("      margin-bottom: $fs * 0.5;\n")
    out("      z-index: token(\"elevation\", \"mid\", $c%d-tokens);\n" % k)
    out("    }\n")
    out("  }\n")
    out("  @each $key, $c in $c%d-theme {\n" % k)
    out("    &--#{$key} {\n")
    out("      @include variant($c, %d);\n" % depth)
    out("    }\n")
    out("  }\n")
    out("  @each $key, $f in $sizes {\n")
    out("    &--#{$key} {\n")
    out("      @include sized($f, %d);\n" % pad)
    out("      width: math.percentage(math.div(math.round($f * %d), %d));\n"
        % (10 + k % 13, 40 + k % 7))
    out("    }\n")
    out("  }\n")
    out("  @each $step, $c in $c%d-shades {\n" % k)
    out("    .shade-#{$step} { color: $c; border-left: rem(%dpx) solid rgba($c, 0.4); }\n"
        % (2 + k % 3))
    out("  }\n")
    out("  @for $i from 1 through %d {\n" % (3 + k % 3))
    out("    &__item:nth-child(#{$i}) {\n")
    out("      order: %d - $i;\n" % (k % 9))
    out("      flex: 0 0 math.percentage(math.div(1, $i + 1));\n")
    out("    }\n")
    out("  }\n")
    out("  $label: \"\";\n")
    out("  @each $t in $c%d-tags {\n" % k)
    out("    @if $label == \"\" {\n")
    out("      $label: $t;\n")
    out("    } @else {\n")
    out("      $label: $label + \" / \" + string.to-upper-case($t);\n")
    out("    }\n")
    out("  }\n")
    out("  &__title {\n")
    out("    &::before { content: string.quote($label); }\n")
    out("    letter-spacing: rem(%dpx);\n" % (k % 3))
    out("    @if string.index($label, \"GAMMA\") {\n")
    out("      text-decoration: underline;\n")
    out("    } @else {\n")
    out("      font-style: italic;\n")
    out("    }\n")
    out("  }\n")
    out("  @include respond(\"%s\") {\n" % ["sm", "md", "lg", "xl"][k % 4])
    out("    display: grid;\n")
    out("    grid-template-columns: repeat(%d, minmax(0, 1fr));\n" % (2 + k % 4))
    out("    gap: space(%d);\n" % (1 + k % 5))
    out("  }\n")
    out("}\n\n")


def main(argv):
    scale = float(argv[1]) if len(argv) > 1 else 1.0
    n = max(2, round(FULL_COMPONENTS * scale))
    parts = [PRELUDE]
    for k in range(n):
        component(k, parts.append)
    sys.stdout.write("".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
