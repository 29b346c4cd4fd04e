export { createAnalyticsModule, type AnalyticsModule } from './analytics.module';
export { analyticsQuerySchema, type AnalyticsQuery } from './analytics.schemas';
