/** The test template T-TT (测试月报) of the consolidation and commission unit tests, with the elements and indicators each test needs. */
import type { IndicatorTemplate } from '../../schemas/model.ts';

type Element = IndicatorTemplate['elements'][number];

/** A data element: a required, additive integer count in 人 unless `extra` says otherwise. */
export const testElement = (code: string, name: string, semantics: Element['semantics'], extra: Partial<Element> = {}): Element => ({
  code,
  name,
  unit: '人',
  type: 'integer',
  required: true,
  semantics,
  additive: true,
  source: 'test',
  ...extra,
});

/** T-TT, monthly, version 1 in force from 2020-01, without rules. */
export const testTemplate = (elements: Element[], indicators: IndicatorTemplate['indicators']): IndicatorTemplate => ({
  id: 'T-TT',
  version: 1,
  from: '2020-01',
  kind: 'indicator',
  title: '测试月报',
  sheetName: '测试月报',
  periodType: 'month',
  source: 'test',
  elements,
  rules: [],
  indicators,
});
