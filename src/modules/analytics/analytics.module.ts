import type { Router } from 'express';
import type { Sequelize } from 'sequelize';
import { Sql } from '../../shared/db/sql';
import { AnalyticsRepository } from './analytics.repository';
import { analyticsRouter } from './analytics.routes';
import { GetAnalyticsUseCase } from './get-analytics.use-case';

export interface AnalyticsModule {
  router: Router;
}

export function createAnalyticsModule(deps: { sequelize: Sequelize }): AnalyticsModule {
  const getAnalytics = new GetAnalyticsUseCase(new AnalyticsRepository(new Sql(deps.sequelize)));
  return { router: analyticsRouter(getAnalytics) };
}
