namespace DiffusionKit.Scheduling;

/// <summary>
/// The inference timesteps each spacing produces, per algorithm family, exactly as diffusers computes them (numpy's
/// round-half-to-even included) in diffusers' convention, and as documented on <see cref="TimestepSpacing"/> in the course's.
/// </summary>
internal static class TimestepPlans
{
    /// <summary>Which diffusers formula family to follow (DPM-Solver plans n + 1 points and drops the last).</summary>
    internal enum Family
    {
        /// <summary>DDIMScheduler / EulerAncestralDiscreteScheduler (integer variant).</summary>
        Ddim,

        /// <summary>DPMSolverMultistepScheduler.</summary>
        DpmSolver,
    }

    /// <summary>Integer timesteps, descending, validated to be distinct and inside the schedule's range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Naming <c>inferenceSteps</c> when n is outside 1..T or the plan leaves the range or repeats a timestep.</exception>
    internal static int[] Plan(NoiseSchedule schedule, SchedulerOptions options, int inferenceSteps, Family family)
    {
        double[] values = PlanFractional(schedule, options, inferenceSteps, family);
        var result = values.Select(v => (int)Math.Round(v, MidpointRounding.ToEven)).ToArray();
        Check(schedule, options, inferenceSteps, result);
        return result;
    }

    /// <summary>Timesteps as diffusers' Euler schedulers keep them: fractional for linspace spacing, integers otherwise.</summary>
    internal static double[] PlanFractional(NoiseSchedule schedule, SchedulerOptions options, int inferenceSteps, Family family)
    {
        int total = schedule.TrainTimesteps;
        if (inferenceSteps < 1 || inferenceSteps > total)
        {
            throw new ArgumentOutOfRangeException(nameof(inferenceSteps), inferenceSteps, $"inferenceSteps must lie in 1..{total} (the number of training timesteps).");
        }

        int n = inferenceSteps;
        int offset = options.StepsOffset;
        if (schedule.Convention == ScheduleConvention.Course)
        {
            return options.TimestepSpacing switch
            {
                // The course's DDIM: T - floor(i·T/n).
                TimestepSpacing.Trailing => Enumerable.Range(0, n).Select(i => (double)(total - (int)((long)i * total / n))).ToArray(),
                TimestepSpacing.Leading => Enumerable.Range(0, n).Reverse().Select(i => (double)((i * (total / n)) + 1 + offset)).ToArray(),
                _ => Enumerable.Reverse(Linspace(0, total - 1, n)).Select(v => Math.Round(v, MidpointRounding.ToEven) + 1).ToArray(),
            };
        }

        switch (options.TimestepSpacing)
        {
            case TimestepSpacing.Trailing:
                // np.round(np.arange(T, 0, -T / n)) - 1
                double ratio = (double)total / n;
                return Enumerable.Range(0, n).Select(i => Math.Round(total - (i * ratio), MidpointRounding.ToEven) - 1).ToArray();
            case TimestepSpacing.Leading:
                // (np.arange(0, m) * (T // m)).round()[::-1] (+ steps_offset); DPM-Solver uses m = n + 1 and drops the last.
                int m = family == Family.DpmSolver ? n + 1 : n;
                int step = total / m;
                return Enumerable.Range(0, m).Reverse().Take(n).Select(i => (double)((i * step) + offset)).ToArray();
            default:
                // DDIM: np.linspace(0, T - 1, n).round()[::-1]; DPM-Solver: np.linspace(0, T - 1, n + 1).round()[::-1][:-1];
                // Euler keeps np.linspace(0, T - 1, n)[::-1] unrounded (the caller rounds for integer plans).
                return family == Family.DpmSolver
                    ? Enumerable.Reverse(Linspace(0, total - 1, n + 1)).Take(n).Select(v => Math.Round(v, MidpointRounding.ToEven)).ToArray()
                    : Enumerable.Reverse(Linspace(0, total - 1, n)).ToArray();
        }
    }

    /// <summary>Checks that a plan is strictly descending and inside the schedule's range.</summary>
    internal static void Check(NoiseSchedule schedule, SchedulerOptions options, int inferenceSteps, IReadOnlyList<int> plan)
    {
        for (int i = 0; i < plan.Count; i++)
        {
            bool inRange = plan[i] >= schedule.FirstTimestep && plan[i] <= schedule.LastTimestep;
            bool descending = i == 0 || plan[i] < plan[i - 1];
            if (!inRange || !descending)
            {
                throw new ArgumentOutOfRangeException(nameof(inferenceSteps), inferenceSteps,
                    $"{inferenceSteps} steps with {SchedulerNames.Format(options.TimestepSpacing)} spacing and steps offset {options.StepsOffset} give timesteps [{string.Join(", ", plan)}], which must be distinct and inside {schedule.FirstTimestep}..{schedule.LastTimestep}; choose fewer steps, another spacing or a smaller offset.");
            }
        }
    }

    /// <summary>numpy's <c>linspace(start, stop, num)</c>: <c>start + i·(stop - start)/(num - 1)</c>, the last value exactly stop.</summary>
    private static double[] Linspace(double start, double stop, int num)
    {
        if (num == 1)
        {
            return [start];
        }

        double delta = (stop - start) / (num - 1);
        var values = Enumerable.Range(0, num).Select(i => start + (i * delta)).ToArray();
        values[^1] = stop;
        return values;
    }
}
