import { parseDuration } from '../../duration.js';
import { cronProblem } from '../../cron.js';
import { knownTimezones, timezoneProblem } from '../../time-zone.js';
import { didYouMean } from '../../system/suggest.js';
import { error, type Finding, type Rule } from './types.js';

/** A drill's schedule can fire: its cron expressions parse and match some date, its time zone
 * exists, its blackout windows are not empty. The schema checked the shapes. */
export const schedule: Rule = {
  name: 'schedule',
  check(ctx) {
    if (ctx.doc.kind !== 'Drill' || !ctx.doc.data.schedule) return [];
    const { cron, timezone, blackout = [] } = ctx.doc.data.schedule;
    const findings: Finding[] = [];
    const cronError = (path: (string | number)[], expression: string) => {
      const problem = cronProblem(expression);
      if (problem) findings.push(error(path, `invalid cron expression "${expression}": ${problem}`));
    };
    cronError(['schedule', 'cron'], cron);
    if (timezone !== undefined && timezoneProblem(timezone)) {
      findings.push(
        error(
          ['schedule', 'timezone'],
          `${timezoneProblem(timezone)}${didYouMean(timezone, knownTimezones())}`,
        ),
      );
    }
    blackout.forEach((window, i) => {
      const path = ['schedule', 'blackout', i];
      if ('from' in window) {
        if (window.to < window.from)
          findings.push(
            error([...path, 'to'], `blackout ends (${window.to}) before it begins (${window.from})`),
          );
      } else {
        cronError([...path, 'cron'], window.cron);
        if (!parseDuration(window.duration))
          findings.push(error([...path, 'duration'], `blackout duration must be longer than 0`));
      }
    });
    return findings;
  },
};
