// What a partner dashboard built with Relay asks: relay-compiler checks these against
// schema.graphql (names, types, Node refetch, connections), and its persisted output is the
// trusted-documents manifest the contract check runs the server with.
import { graphql } from 'react-relay';

export const viewer = graphql`
  query DashboardViewerQuery {
    viewer {
      user {
        id
        displayName
      }
      memberships(first: 10) {
        edges {
          node {
            id
            role
            organization {
              id
              name
            }
          }
        }
      }
    }
  }
`;

export const customer = graphql`
  fragment Dashboard_customer on Organization
  @refetchable(queryName: "DashboardCustomerRefetchQuery") {
    id
    name
    country
    viewerRights
    subscriptions(first: 5) {
      totalCount
      edges {
        node {
          id
          seats
          plan {
            id
            code
            unitPrice {
              amount
              currency
            }
          }
        }
      }
    }
  }
`;

export const customers = graphql`
  query DashboardCustomersQuery($count: Int!, $cursor: String) {
    customers(first: $count, after: $cursor) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          ...Dashboard_customer
        }
      }
    }
  }
`;

export const report = graphql`
  query DashboardReportQuery($period: String!) {
    partnerBillingReport(period: $period, first: 50) {
      nodes {
        id
        customerName
        amounts {
          margin {
            amount
            currency
          }
        }
      }
    }
  }
`;

export const createCustomer = graphql`
  mutation DashboardCreateCustomerMutation($input: CreateCustomerInput!) {
    createCustomer(input: $input) {
      customer {
        id
        name
      }
    }
  }
`;
