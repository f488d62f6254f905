/** Types of the npm package `parse-prometheus-text-format` (it ships none): prom2json-shaped families. */
declare module "parse-prometheus-text-format" {
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
