import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';

/**
 * When a fleet scales to zero and back, e.g. `OffHoursSchedule.cron({ scaleDown, scaleUp, timeZone })`.
 */
export interface OffHoursScheduleProps {
  /**
   * When the fleet scales down to zero instances (minimum and desired capacity 0; the maximum is
   * left as it is). Five-field cron, e.g. `autoscaling.Schedule.cron({ hour: '20', minute: '0', weekDay: 'MON-FRI' })`.
   */
  readonly scaleDown: autoscaling.Schedule;

  /**
   * When the fleet scales back up to its minimum capacity (minimum and desired capacity set to it).
   */
  readonly scaleUp: autoscaling.Schedule;

  /**
   * Time zone of both schedules: an IANA name such as `Europe/Berlin` or `America/New_York`.
   *
   * @default 'UTC'
   */
  readonly timeZone?: string;
}

/** The hours of `OffHoursSchedule.weekdays`. */
export interface WeekdayHoursOptions {
  /**
   * Hour (0 to 23) the fleet scales up, Monday to Friday.
   *
   * @default 7
   */
  readonly startHour?: number;

  /**
   * Hour (0 to 23, after `startHour`) the fleet scales down to zero, Monday to Friday (so it stays
   * down from Friday evening to Monday morning).
   *
   * @default 20
   */
  readonly endHour?: number;

  /**
   * Time zone (IANA name, e.g. `Europe/Berlin`).
   *
   * @default 'UTC'
   */
  readonly timeZone?: string;
}

/**
 * Scheduled scaling of a fleet outside working hours: down to zero instances, then back to its
 * minimum. Scheduled actions change the group's size outside CloudFormation; the Auto Scaling
 * group's `AutoScalingScheduledAction` update policy (`IgnoreUnmodifiedGroupSizeProperties`) keeps a
 * deployment from undoing them, and a deployment while the group is at zero replaces no instance
 * (there is none), so it waits for no signal.
 */
export class OffHoursSchedule {
  /**
   * Up Monday to Friday at `startHour`, down at `endHour` (default 07:00 to 20:00 UTC): the fleet
   * runs 65 of the week's 168 hours.
   */
  public static weekdays(options: WeekdayHoursOptions = {}): OffHoursSchedule {
    const startHour = options.startHour ?? 7;
    const endHour = options.endHour ?? 20;
    for (const [name, hour] of [['startHour', startHour], ['endHour', endHour]] as const) {
      if (!Number.isInteger(hour) || hour < 0 || hour > 23) {
        throw new Error(`${name} (${hour}) must be an integer from 0 to 23 in OffHoursSchedule.weekdays()`);
      }
    }
    if (endHour <= startHour) throw new Error(`endHour (${endHour}) must be after startHour (${startHour}) in OffHoursSchedule.weekdays()`);
    return new OffHoursSchedule({
      scaleUp: autoscaling.Schedule.cron({ minute: '0', hour: String(startHour), weekDay: 'MON-FRI' }),
      scaleDown: autoscaling.Schedule.cron({ minute: '0', hour: String(endHour), weekDay: 'MON-FRI' }),
      timeZone: options.timeZone,
    });
  }

  /** Your own schedules (validated when a fleet uses them). */
  public static cron(props: OffHoursScheduleProps): OffHoursSchedule {
    return new OffHoursSchedule(props);
  }

  /** No scheduled scaling: turns off a preset's schedule for one fleet. */
  public static alwaysOn(): OffHoursSchedule {
    return new OffHoursSchedule(undefined);
  }

  /** The schedules, or undefined when the fleet is always on. */
  public readonly schedule?: OffHoursScheduleProps;

  private constructor(schedule: OffHoursScheduleProps | undefined) {
    this.schedule = schedule;
  }
}
